// The server's delivery tests, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/delivery.test.js";
