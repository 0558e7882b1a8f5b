import { Contact$ } from "@aws-sdk/client-connect";
import { describe, expect, it } from "vitest";
import { graphqlModel } from "../../src/domain/graphqlModel.js";

const contactModel = graphqlModel(Contact$);

describe("graphqlModel", () => {
  it("names every member as its GraphQL field, at every depth", () => {
    expect(contactModel({ Id: "c-1", QueueInfo: { Id: "q-1" }, AgentInfo: { HierarchyGroups: { Level1: { Arn: "arn:l1" } } } })).toEqual({
      id: "c-1",
      queueInfo: { id: "q-1" },
      agentInfo: { hierarchyGroups: { level1: { arn: "arn:l1" } } },
    });
  });

  it("renders Connect's epoch seconds as ISO timestamps to the millisecond, as the SDK reads them, and ISO strings and epoch strings alike", () => {
    const model = contactModel({ InitiationTimestamp: 1_700_000_000.1234, DisconnectTimestamp: "2023-11-14T22:13:20.123+00:00", ScheduledTimestamp: "1700000000.5" }) as Record<string, string>;
    expect(model.initiationTimestamp).toBe("2023-11-14T22:13:20.123Z");
    expect(model.disconnectTimestamp).toBe("2023-11-14T22:13:20.123Z");
    expect(model.scheduledTimestamp).toBe("2023-11-14T22:13:20.500Z");
  });

  it("renders a Date the SDK made the same way, keeps what is no time for the scalar to refuse, and numbers beyond 32 bits exactly", () => {
    const model = contactModel({ LastUpdateTimestamp: new Date(1_700_000_000_456), LastPausedTimestamp: "not a time", TotalPauseDurationInSeconds: 2 ** 40 }) as Record<string, unknown>;
    expect(model.lastUpdateTimestamp).toBe("2023-11-14T22:13:20.456Z");
    expect(model.lastPausedTimestamp).toBe("not a time");
    expect(model.totalPauseDurationInSeconds).toBe(2 ** 40);
  });

  it("turns maps into { key, value } entries in the order upstream sent them, converting the values", () => {
    const model = contactModel({
      Tags: { b: "2", a: "1" },
      SegmentAttributes: { "connect:Subtype": { ValueString: "connect:Chat", ValueMap: { inner: { ValueInteger: 3 } } } },
    }) as Record<string, unknown>;
    expect(model.tags).toEqual([
      { key: "b", value: "2" },
      { key: "a", value: "1" },
    ]);
    expect(model.segmentAttributes).toEqual([{ key: "connect:Subtype", value: { valueString: "connect:Chat", valueMap: [{ key: "inner", value: { valueInteger: 3 } }] } }]);
  });

  it("passes enum values and members newer than the SDK through, and leaves out null members", () => {
    const model = contactModel({ Channel: "HOLOGRAM", FutureMember: { Nested: 1 }, Name: null }) as Record<string, unknown>;
    expect(model).toEqual({ channel: "HOLOGRAM", futureMember: { Nested: 1 } });
  });
});
