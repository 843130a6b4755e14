// The server's dead-letters-http tests, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/dead-letters-http.test.js";
