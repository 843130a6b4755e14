// The server's observability tests (spans, OTLP export, metrics, logs), on the cluster backend.
import "./use-cluster.js";
import "../../server/test/observability.test.js";
