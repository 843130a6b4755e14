// Examples from the Amazon EventBridge user guide ("Creating event patterns", "Content filtering
// in event patterns", "Comparison operators", "Arrays", "Null values and empty strings") and the
// aws/event-ruler README, as (event, pattern, expected) rows. The other patterns-*.test.ts files
// cover each operator's edge cases and the validator.
import { describe, expect, it } from "vitest";
import { compilePattern, matchesPattern, type EventPattern } from "../src/patterns/index.js";

interface Row {
  name: string;
  event: unknown;
  pattern: EventPattern;
  expected: boolean;
}

const ec2Event = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: { "instance-id": "i-1234567890abcdef0", state: "terminated" },
};

// event-ruler README's sample event.
const rulerEvent = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    state: "running",
  },
};

const docRows: Row[] = [
  {
    name: "event patterns: EC2 instance termination",
    event: ec2Event,
    pattern: {
      source: ["aws.ec2"],
      "detail-type": ["EC2 Instance State-change Notification"],
      detail: { state: ["terminated"] },
    },
    expected: true,
  },
  {
    name: "event patterns: a field the event lacks",
    event: ec2Event,
    pattern: { source: ["aws.ec2"], detail: { reason: ["user"] } },
    expected: false,
  },
  {
    name: "event patterns: fields must keep the event's nesting",
    event: ec2Event,
    pattern: { state: ["terminated"] },
    expected: false,
  },
  {
    name: "prefix: time starting with 2017-10-02",
    event: { time: "2017-10-02T18:43:48Z" },
    pattern: { time: [{ prefix: "2017-10-02" }] },
    expected: true,
  },
  {
    name: "prefix: another day",
    event: { time: "2017-10-03T18:43:48Z" },
    pattern: { time: [{ prefix: "2017-10-02" }] },
    expected: false,
  },
  {
    name: "prefix ignoring case: EVENTBRIDGE starts with EventB",
    event: { detail: { service: "EVENTBRIDGE" } },
    pattern: { detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } },
    expected: true,
  },
  {
    name: "suffix: FileName ending in .png",
    event: { FileName: "image.png" },
    pattern: { FileName: [{ suffix: ".png" }] },
    expected: true,
  },
  {
    name: "suffix is case-sensitive",
    event: { FileName: "image.PNG" },
    pattern: { FileName: [{ suffix: ".png" }] },
    expected: false,
  },
  {
    name: "suffix ignoring case: .PNG ends with .png",
    event: { detail: { FileName: "image.PNG" } },
    pattern: { detail: { FileName: [{ suffix: { "equals-ignore-case": ".png" } }] } },
    expected: true,
  },
  {
    name: "anything-but a string",
    event: { detail: { state: "running" } },
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    expected: true,
  },
  {
    name: "anything-but a string: the excluded value",
    event: { detail: { state: "initializing" } },
    pattern: { detail: { state: [{ "anything-but": "initializing" }] } },
    expected: false,
  },
  {
    name: "anything-but a number",
    event: { detail: { "x-limit": 123 } },
    pattern: { detail: { "x-limit": [{ "anything-but": 123 }] } },
    expected: false,
  },
  {
    name: "anything-but a list of strings",
    event: { detail: { state: "overloaded" } },
    pattern: { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } },
    expected: false,
  },
  {
    name: "anything-but a list of numbers",
    event: { detail: { "x-limit": 250 } },
    pattern: { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } },
    expected: true,
  },
  {
    name: "anything-but prefix: init... is excluded",
    event: { detail: { state: "initializing" } },
    pattern: { detail: { state: [{ "anything-but": { prefix: "init" } }] } },
    expected: false,
  },
  {
    name: "anything-but suffix: .txt is excluded",
    event: { detail: { FileName: "notes.txt" } },
    pattern: { detail: { FileName: [{ "anything-but": { suffix: ".txt" } }] } },
    expected: false,
  },
  {
    name: "anything-but ignoring case",
    event: { detail: { state: "INITIALIZING" } },
    pattern: { detail: { state: [{ "anything-but": { "equals-ignore-case": "initializing" } }] } },
    expected: false,
  },
  {
    name: "anything-but ignoring case, list",
    event: { detail: { state: "Running" } },
    pattern: { detail: { state: [{ "anything-but": { "equals-ignore-case": ["Stopped", "overloaded"] } }] } },
    expected: true,
  },
  {
    name: "anything-but wildcard: a path under /lib/ is excluded",
    event: { FilePath: "/usr/lib/libc.so" },
    pattern: { FilePath: [{ "anything-but": { wildcard: "*/lib/*" } }] },
    expected: false,
  },
  {
    name: "anything-but wildcard list",
    event: { FilePath: "/home/me/notes.md" },
    pattern: { FilePath: [{ "anything-but": { wildcard: ["*/lib/*", "*/bin/*"] } }] },
    expected: true,
  },
  {
    name: "numeric: all three conditions hold",
    event: rulerEvent,
    pattern: {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    },
    expected: true,
  },
  {
    name: "numeric: c-count above the upper bound",
    event: { detail: { "c-count": 6 } },
    pattern: { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } },
    expected: false,
  },
  {
    name: "IP address: 10.0.0.33 is in 10.0.0.0/24",
    event: { detail: { sourceIPAddress: "10.0.0.33" } },
    pattern: { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    expected: true,
  },
  {
    name: "IP address: 10.0.1.1 is not",
    event: { detail: { sourceIPAddress: "10.0.1.1" } },
    pattern: { detail: { sourceIPAddress: [{ cidr: "10.0.0.0/24" }] } },
    expected: false,
  },
  {
    name: "exists true: detail.state is present",
    event: ec2Event,
    pattern: { detail: { state: [{ exists: true }] } },
    expected: true,
  },
  {
    name: "exists true: no detail.state",
    event: { detail: { "c-count": { c1: 100 } } },
    pattern: { detail: { state: [{ exists: true }] } },
    expected: false,
  },
  {
    name: "exists false: no detail.c-count",
    event: { "detail-type": "x", detail: { state: ["initializing", "running"] } },
    pattern: { detail: { "c-count": [{ exists: false }] } },
    expected: true,
  },
  {
    name: "exists false: c-count is not a leaf node",
    event: { detail: { state: ["initializing", "running"], "c-count": { c1: 100 } } },
    pattern: { detail: { "c-count": [{ exists: false }] } },
    expected: true,
  },
  {
    name: "complex example with multiple matching",
    event: { ...rulerEvent, detail: { ...rulerEvent.detail, "x-limit": 99 } },
    pattern: {
      time: [{ prefix: "2017-10-02" }],
      detail: {
        state: [{ "anything-but": "initializing" }],
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ "anything-but": [100, 200, 300] }],
        "source-ip": [{ cidr: "10.0.0.0/8" }],
      },
    },
    expected: true,
  },
  {
    name: "equals-ignore-case: alice matches Alice",
    event: { Name: "Alice" },
    pattern: { Name: [{ "equals-ignore-case": "alice" }] },
    expected: true,
  },
  {
    name: "wildcard: event bus ARN in any account",
    event: { EventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/orders" },
    pattern: { EventBusArn: [{ wildcard: "arn:aws:events:us-east-1:*:event-bus/*" }] },
    expected: true,
  },
  {
    name: "wildcard: a .png inside dir",
    event: { FileName: "dir/photos/cat.png" },
    pattern: { FileName: [{ wildcard: "dir/*.png" }] },
    expected: true,
  },
  {
    name: "wildcard: a .png outside dir",
    event: { FileName: "other/cat.png" },
    pattern: { FileName: [{ wildcard: "dir/*.png" }] },
    expected: false,
  },
  {
    name: "empty string: eventVersion is empty",
    event: { detail: { eventVersion: "", responseElements: null } },
    pattern: { detail: { eventVersion: [""] } },
    expected: true,
  },
  {
    name: "null: responseElements is null",
    event: { detail: { eventVersion: "", responseElements: null } },
    pattern: { detail: { responseElements: [null] } },
    expected: true,
  },
  {
    name: "null and empty string are not interchangeable",
    event: { detail: { eventVersion: "", responseElements: null } },
    pattern: { detail: { responseElements: [""] } },
    expected: false,
  },
  {
    name: "arrays: intersection of pattern and event arrays is non-empty",
    event: {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    },
    pattern: {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
      ],
    },
    expected: true,
  },
  {
    name: "operators table: Location is New York and Day is Monday",
    event: { Location: "New York", Day: "Monday" },
    pattern: { Location: ["New York"], Day: ["Monday"] },
    expected: true,
  },
  {
    name: "operators table: PaymentType is Credit or Debit",
    event: { PaymentType: "Debit" },
    pattern: { PaymentType: ["Credit", "Debit"] },
    expected: true,
  },
  {
    name: "operators table: Location is New York, or Day is Monday",
    event: { Location: "Boston", Day: "Monday" },
    pattern: { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] },
    expected: true,
  },
  {
    name: "operators table: Price is 100",
    event: { Price: 100.0 },
    pattern: { Price: [{ numeric: ["=", 100] }] },
    expected: true,
  },
  {
    name: "operators table: Price above 10 and at most 20",
    event: { Price: 20 },
    pattern: { Price: [{ numeric: [">", 10, "<=", 20] }] },
    expected: true,
  },
  {
    name: "operators table: UserID is null",
    event: { UserID: null },
    pattern: { UserID: [null] },
    expected: true,
  },
  {
    name: "operators table: ProductName does not exist",
    event: { Other: 1 },
    pattern: { ProductName: [{ exists: false }] },
    expected: true,
  },
  {
    name: "operators table: Weather is anything but Raining",
    event: { Weather: "Raining" },
    pattern: { Weather: [{ "anything-but": ["Raining"] }] },
    expected: false,
  },
];

const rulerRows: Row[] = [
  {
    name: "ruler: simple matching",
    event: rulerEvent,
    pattern: {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      detail: { state: ["initializing", "running"] },
    },
    expected: true,
  },
  {
    name: "ruler: suffix on source",
    event: rulerEvent,
    pattern: { source: [{ suffix: "ec2" }] },
    expected: true,
  },
  {
    name: "ruler: equals-ignore-case on source",
    event: rulerEvent,
    pattern: { source: [{ "equals-ignore-case": "AWS.EC2" }] },
    expected: true,
  },
  {
    name: "ruler: wildcard Simple*Service",
    event: { source: "Simple Storage Service" },
    pattern: { source: [{ wildcard: "Simple*Service" }] },
    expected: true,
  },
  {
    name: "ruler: source && (metricName || namespace)",
    event: { source: "aws.cloudwatch", namespace: "AWS/EC2" },
    pattern: {
      source: ["aws.cloudwatch"],
      $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
    },
    expected: true,
  },
  {
    name: "ruler: parallel $or, the nested one failing",
    event: { metricName: "CPUUtilization", detail: { source: "other" } },
    pattern: {
      $or: [{ metricName: ["CPUUtilization", "ReadLatency"] }, { namespace: ["AWS/EC2", "AWS/ES"] }],
      detail: {
        $or: [{ source: ["aws.cloudwatch"] }, { "detail-type": ["CloudWatch Alarm State Change"] }],
      },
    },
    expected: false,
  },
  {
    name: "ruler: nested $or and AND",
    event: { source: "aws.cloudwatch", metricType: "MetricType", namespace: "AWS/ES", spaceId: 1000 },
    pattern: {
      source: ["aws.cloudwatch"],
      $or: [
        { metricName: ["CPUUtilization", "ReadLatency"] },
        {
          metricType: ["MetricType"],
          namespace: ["AWS/EC2", "AWS/ES"],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ["Service"] },
      ],
    },
    expected: true,
  },
  {
    name: "ruler: array of objects, one element matches",
    event: {
      employees: [
        { firstName: "John", lastName: "Doe" },
        { firstName: "Anna", lastName: "Smith" },
        { firstName: "Peter", lastName: "Jones" },
      ],
    },
    pattern: { employees: { firstName: ["Anna"] } },
    expected: true,
  },
  {
    name: "ruler: multi-level arrays are crushed out",
    event: {
      employees: [
        [
          { firstName: "John", lastName: "Doe" },
          { firstName: "Anna", lastName: "Smith" },
        ],
        [{ firstName: "Peter", lastName: "Jones" }],
      ],
    },
    pattern: { employees: { firstName: ["Anna"] } },
    expected: true,
  },
  {
    name: "ruler: array consistency, fields from different elements do not combine",
    event: {
      employees: [
        [
          { firstName: "John", lastName: "Doe" },
          { firstName: "Anna", lastName: "Smith" },
        ],
        [{ firstName: "Peter", lastName: "Jones" }],
      ],
    },
    pattern: { employees: { firstName: ["Anna"], lastName: ["Jones"] } },
    expected: false,
  },
];

describe("EventBridge documentation examples", () => {
  it.each(docRows)("$name", ({ event, pattern, expected }) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe("event-ruler README examples", () => {
  it.each(rulerRows)("$name", ({ event, pattern, expected }) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe("CloudEvents", () => {
  const event = {
    specversion: "1.0",
    id: "evt-1",
    source: "/shop/checkout",
    type: "order.paid",
    subject: "order/42",
    time: "2024-05-01T10:00:00Z",
    datacontenttype: "application/json",
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    data: { total: 300.0, currency: "EUR", items: [{ sku: "A1", qty: 2 }] },
  };

  it("matches attributes at the top level and the payload under data", () => {
    const pattern: EventPattern = {
      type: ["order.paid"],
      source: [{ prefix: "/shop" }],
      traceparent: [{ exists: true }],
      data: { total: [{ numeric: [">", 100] }], items: { sku: ["A1"] } },
    };
    expect(matchesPattern(pattern, event)).toBe(true);
  });

  it("compares numbers numerically: 300 matches 300.0", () => {
    expect(matchesPattern({ data: { total: [300] } }, event)).toBe(true);
  });

  it("compilePattern gives the same answers as matchesPattern", () => {
    const rows = [...docRows, ...rulerRows];
    for (const { pattern, event: e, expected } of rows) {
      expect(compilePattern(pattern)(e)).toBe(expected);
    }
  });
});
