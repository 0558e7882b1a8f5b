import { Contact$, Queue$ } from "@aws-sdk/client-connect";
import { describe, expect, it } from "vitest";
import { graphqlModel } from "../../src/domain/graphqlModel.js";

const contactModel = graphqlModel(Contact$);
const queueModel = graphqlModel(Queue$);

// Every object's own keys, depth first: the order a model's fields are listed in (and serialized).
function keyOrder(value: unknown, out: string[][] = []): string[][] {
  if (value && typeof value === "object") {
    out.push(Object.keys(value));
    for (const v of Object.values(value)) keyOrder(v, out);
  }
  return out;
}

describe("graphqlModel's members and their order", () => {
  it("lists the members the SDK knows in the SDK's order, whatever order the answer sent them in", () => {
    const model = contactModel({ Channel: "VOICE", QueueInfo: { EnqueueTimestamp: 1_700_000_000, Id: "q-1" }, Id: "c-1", Arn: "arn:c-1" });
    expect(keyOrder(model)).toStrictEqual([
      ["arn", "id", "channel", "queueInfo"],
      ["id", "enqueueTimestamp"],
    ]);
  });

  it("keeps members the SDK does not know under the naming rule, in the order they came, after the ones it knows", () => {
    const model = contactModel(JSON.parse('{"Zeta":1,"Id":"c-1","Alpha":{"Nested":[1]},"AgentInfo":{"NewTime":5,"Id":"a-1","Other":"x"},"Arn":"arn:c-1"}'));
    expect(JSON.stringify(model)).toBe('{"arn":"arn:c-1","id":"c-1","agentInfo":{"id":"a-1","newTime":5,"other":"x"},"zeta":1,"alpha":{"Nested":[1]}}');
  });

  it("keeps an unknown member whose field name is a known member's in the known member's place", () => {
    expect(JSON.stringify(contactModel({ id: "lower", Arn: "a", Id: "upper" }))).toBe('{"arn":"a","id":"lower"}');
  });

  it("reads a union's one member, and keeps an unknown one sent with it or instead of it", () => {
    const model = contactModel({ SegmentAttributes: { a: { ValueInteger: 3 }, b: { ValueString: "s", Future: true }, c: { Future: 1 }, d: { ValueMap: {} } } });
    expect(JSON.stringify(model)).toBe(
      '{"segmentAttributes":[{"key":"a","value":{"valueInteger":3}},{"key":"b","value":{"valueString":"s","future":true}},{"key":"c","value":{"future":1}},{"key":"d","value":{"valueMap":[]}}]}',
    );
  });

  it("never copies __proto__ (an own member after JSON.parse), at any depth, and leaves the model's prototype alone", () => {
    const model = contactModel(JSON.parse('{"__proto__":{"Id":"evil"},"Id":"c-1","QueueInfo":{"__proto__":{"Polluted":true},"Id":"q-1"},"Extra":1}')) as Record<string, unknown>;
    expect(JSON.stringify(model)).toBe('{"id":"c-1","queueInfo":{"id":"q-1"},"extra":1}');
    expect(Object.getPrototypeOf(model)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(model.queueInfo)).toBe(Object.prototype);
    expect(Object.hasOwn(model, "__proto__")).toBe(false);
  });

  it("leaves out null and absent members, known or not, and keeps empty lists and maps", () => {
    const model = contactModel({ Id: null, Arn: undefined, Name: "n", Unknown: null, Tags: {}, NextContacts: [], Attributes: { a: null } });
    expect(JSON.stringify(model)).toBe('{"name":"n","tags":[],"attributes":[{"key":"a","value":null}],"nextContacts":[]}');
  });

  it("converts a shape that contains itself at every depth (routing expressions)", () => {
    const leaf = (name: string) => ({ AttributeCondition: { Name: name, ComparisonOperator: "NumberGreaterOrEqualTo", Unknown: 1 } });
    const model = contactModel({ RoutingCriteria: { Steps: [{ Expression: { AndExpression: [{ OrExpression: [leaf("a"), { NotAttributeCondition: { Name: "b" } }] }, leaf("c")] } }] } });
    expect(JSON.stringify(model)).toBe(
      '{"routingCriteria":{"steps":[{"expression":{"andExpression":[{"orExpression":[{"attributeCondition":{"name":"a","comparisonOperator":"NumberGreaterOrEqualTo","unknown":1}},{"notAttributeCondition":{"name":"b"}}]},{"attributeCondition":{"name":"c","comparisonOperator":"NumberGreaterOrEqualTo","unknown":1}}]}}]}}',
    );
  });

  it("passes a value of the wrong kind through as it came", () => {
    expect(contactModel({ QueueInfo: "q", AgentInfo: [1], Tags: "t", NextContacts: { a: 1 } })).toStrictEqual({ queueInfo: "q", agentInfo: [1], tags: "t", nextContacts: { a: 1 } });
    expect(contactModel("not a contact")).toBe("not a contact");
  });

  it("converts other shapes by the same rules (a queue)", () => {
    expect(JSON.stringify(queueModel({ Tags: { b: "2" }, Name: "q", QueueArn: "arn:q", NewSetting: 4, LastModifiedTime: 1_700_000_000.5 }))).toBe(
      '{"name":"q","queueArn":"arn:q","tags":[{"key":"b","value":"2"}],"lastModifiedTime":"2023-11-14T22:13:20.500Z","newSetting":4}',
    );
  });

  it("renders every time as Date#toISOString does, in years 0000–9999 and beyond them", () => {
    const times = [0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    for (let t = -62_167_219_200_000; t < 253_402_300_800_000; t += 9_876_543_210_987) times.push(t);
    for (const t of times) {
      expect((contactModel({ InitiationTimestamp: new Date(t) }) as { initiationTimestamp: string }).initiationTimestamp).toBe(new Date(t).toISOString());
      expect((contactModel({ InitiationTimestamp: t / 1000 }) as { initiationTimestamp: string }).initiationTimestamp).toBe(new Date(Math.round((t / 1000) * 1000)).toISOString());
    }
    expect(contactModel({ InitiationTimestamp: 8.64e12 + 0.001 })).toStrictEqual({ initiationTimestamp: 8.64e12 + 0.001 });
  });
});
