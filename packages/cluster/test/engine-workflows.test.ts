// The server's workflow tests, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/workflows.test.js";
import "../../server/test/workflow-waits.test.js";
import "../../server/test/workflow-sagas.test.js";
import "../../server/test/workflow-invoke.test.js";
