// The server's workflow-metrics tests, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/workflow-metrics.test.js";
