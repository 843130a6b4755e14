// Work pinned to its version, on the cluster backend ("a feature is done when it passes on both").
import "./use-cluster.js";
import "../../server/test/pinned-versions.test.js";
