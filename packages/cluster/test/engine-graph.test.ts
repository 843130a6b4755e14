// The server's choreography-map tests, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/graph.test.js";
