// The server's backpressure (backlog limits) tests, on the cluster backend.
import "./use-cluster.js";
import "../../server/test/backpressure.test.js";
