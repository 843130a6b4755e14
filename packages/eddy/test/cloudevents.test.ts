import { describe, expect, it } from "vitest";
import { validateCloudEvent } from "eddy";
import { isRfc3339 } from "eddy/internal";

const valid = { specversion: "1.0", id: "1", source: "/s", type: "t" };
const paths = (v: unknown) => validateCloudEvent(v).map((p) => p.path);

describe("validateCloudEvent", () => {
  it("accepts a minimal and a full event", () => {
    expect(validateCloudEvent(valid)).toEqual([]);
    expect(
      validateCloudEvent({
        ...valid,
        subject: "s",
        time: "2026-11-22T10:00:00.123+01:00",
        datacontenttype: "application/json",
        dataschema: "https://example.com/s.json",
        data: { a: [1, null] },
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        partitionkey: "k",
        count: 3,
        flag: true,
      }),
    ).toEqual([]);
  });

  it("names each missing required attribute", () => {
    expect(paths({})).toEqual(["id", "source", "specversion", "type"]);
  });

  it("refuses non-objects", () => {
    for (const v of [null, [], "x", 1]) expect(paths(v)).toEqual([""]);
  });

  it("refuses other spec versions", () => {
    expect(validateCloudEvent({ ...valid, specversion: "0.3" })[0]!.message).toMatch(
      /unsupported specversion "0.3"/,
    );
  });

  it("checks attribute types and emptiness", () => {
    expect(paths({ ...valid, id: 1 })).toEqual(["id"]);
    expect(paths({ ...valid, source: "" })).toEqual(["source"]);
    expect(paths({ ...valid, subject: 5 })).toEqual(["subject"]);
  });

  it("requires RFC 3339 times", () => {
    expect(paths({ ...valid, time: "2026-11-22 10:00:00" })).toEqual(["time"]);
    expect(paths({ ...valid, time: "2026-02-30T10:00:00Z" })).toEqual(["time"]);
    expect(paths({ ...valid, time: "2026-11-22T10:00:00Z" })).toEqual([]);
  });

  it("checks extension names and values", () => {
    expect(paths({ ...valid, Upper: "x" })).toEqual(["Upper"]);
    expect(paths({ ...valid, "with-dash": "x" })).toEqual(["with-dash"]);
    expect(paths({ ...valid, ext: { nested: true } })).toEqual(["ext"]);
    expect(paths({ ...valid, ext: 1.5 })).toEqual(["ext"]);
    expect(paths({ ...valid, ext: 2 ** 31 })).toEqual(["ext"]);
  });

  it("allows data or data_base64, not both, and checks base64", () => {
    expect(paths({ ...valid, data_base64: "aGVsbG8=" })).toEqual([]);
    expect(paths({ ...valid, data_base64: "not base64!" })).toEqual(["data_base64"]);
    expect(paths({ ...valid, data: 1, data_base64: "AA==" })).toEqual(["data_base64"]);
  });
});

describe("isRfc3339", () => {
  it.each([
    ["2026-01-31T23:59:60Z", true],
    ["2026-01-31t23:59:59.5z", true],
    ["2026-01-31T23:59:59+14:00", true],
    ["2026-01-31T24:00:00Z", false],
    ["2026-13-01T00:00:00Z", false],
    ["2026-01-31", false],
    ["2026-01-31T00:00:00", false],
  ])("%s → %s", (v, ok) => expect(isRfc3339(v)).toBe(ok));
});
