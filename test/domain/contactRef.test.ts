import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import {
  CONNECT_SERVICE_REGIONS,
  contactArnArgument,
  instanceArgument,
  parseContactArn,
  parseInstanceArn,
  partitionOf,
  regionsOf,
} from "../../src/domain/contactRef.js";

const ACCOUNT = "123456789012";
const INSTANCE = "9f2c4e1a-7b3d-4c8e-a5f6-0d1e2f3a4b5c";
const instanceArn = (region: string, partition = partitionOf(region), account = ACCOUNT) => `arn:${partition}:connect:${region}:${account}:instance/${INSTANCE}`;
const contactArn = (region: string, partition?: string, account?: string) => `${instanceArn(region, partition, account)}/contact/c-1`;
/** The default: ids alone in us-east-1, ARNs in any region Connect is offered in. */
const CONNECT = regionsOf("us-east-1");

/** What `fn` threw, as BAD_USER_INPUT's extensions and message. */
function refusal(fn: () => unknown): { extensions: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return { extensions: (error as GraphQLError).extensions, message: (error as GraphQLError).message };
  }
  throw new Error("did not throw");
}

describe("the regions a ref may name", () => {
  it("accepts an ARN of every region where Amazon Connect is offered, the emulator specs' regions among them", () => {
    expect(CONNECT_SERVICE_REGIONS).toEqual(expect.arrayContaining(["us-east-1", "us-west-2", "eu-west-2", "ap-southeast-2"]));
    for (const region of CONNECT_SERVICE_REGIONS) {
      expect(parseContactArn(contactArn(region))).toMatchObject({ region, instanceId: INSTANCE, contactId: "c-1" });
      expect(parseInstanceArn(instanceArn(region))).toMatchObject({ region, instanceId: INSTANCE });
      expect(instanceArgument("instanceId", instanceArn(region), CONNECT)).toEqual({ region, instanceId: INSTANCE, accountId: ACCOUNT });
      expect(contactArnArgument("arn", contactArn(region), CONNECT)).toEqual({ region, instanceId: INSTANCE, contactId: "c-1", accountId: ACCOUNT });
    }
  });

  it("refuses an ARN of a region the gateway may not call as it parses it: BAD_USER_INPUT naming the argument", () => {
    for (const region of ["us-east-7", "us-east-2000", "eu-north-42", "xx-nowhere-1"]) {
      expect(CONNECT.callable.has(region)).toBe(false);
      expect(refusal(() => instanceArgument("representations[0].instanceId", instanceArn(region), CONNECT))).toEqual({
        extensions: { code: "BAD_USER_INPUT", argument: "representations[0].instanceId" },
        message: `Argument "representations[0].instanceId" names the region "${region}", which this gateway does not call (see its CONNECT_REGIONS).`,
      });
      expect(refusal(() => contactArnArgument("arn", contactArn(region), CONNECT)).extensions).toEqual({ code: "BAD_USER_INPUT", argument: "arn" });
    }
    // A malformed ARN is still told apart from one of a region the gateway does not call.
    expect(refusal(() => contactArnArgument("arn", instanceArn("us-east-1"), CONNECT)).message).toContain("must be a contact ARN");
    // An id alone is in the gateway's own region (AWS_REGION), always callable.
    expect(instanceArgument("instanceId", INSTANCE, regionsOf("mx-central-1"))).toEqual({ region: "mx-central-1", instanceId: INSTANCE });
  });

  it("keeps the account of an ARN, and none for an id alone", () => {
    expect(contactArnArgument("arn", contactArn("us-east-1", "aws", "999999999999"), CONNECT)).toEqual({ region: "us-east-1", instanceId: INSTANCE, contactId: "c-1", accountId: "999999999999" });
    expect(instanceArgument("instanceId", instanceArn("eu-west-2", "aws", "999999999999"), CONNECT)).toEqual({ region: "eu-west-2", instanceId: INSTANCE, accountId: "999999999999" });
    expect(instanceArgument("instanceId", INSTANCE, CONNECT)).toEqual({ region: "us-east-1", instanceId: INSTANCE });
  });

  it("takes the regions from CONNECT_REGIONS, always with AWS_REGION", () => {
    const config = loadConfig({ CONNECT_REGIONS: "eu-west-2, ap-southeast-2", AWS_REGION: "eu-central-1" }, false);
    expect(config.CONNECT_REGIONS).toEqual(["eu-west-2", "ap-southeast-2", "eu-central-1"]);
    const regions = regionsOf(config.AWS_REGION, config.CONNECT_REGIONS);
    expect(contactArnArgument("arn", contactArn("eu-west-2"), regions).region).toBe("eu-west-2");
    expect(contactArnArgument("arn", contactArn("eu-central-1"), regions).region).toBe("eu-central-1");
    expect(refusal(() => contactArnArgument("arn", contactArn("us-east-1"), regions)).extensions).toEqual({ code: "BAD_USER_INPUT", argument: "arn" });
    expect(refusal(() => instanceArgument("instanceId", instanceArn("us-east-1"), regions)).extensions).toEqual({ code: "BAD_USER_INPUT", argument: "instanceId" });

    // A region Connect may offer later is one setting away; the default is Connect's list and AWS_REGION.
    const later = loadConfig({ CONNECT_REGIONS: "us-east-1,mx-central-1" }, false);
    expect(later.CONNECT_REGIONS).toEqual(["us-east-1", "mx-central-1"]);
    expect(regionsOf(later.AWS_REGION, later.CONNECT_REGIONS).callable.has("mx-central-1")).toBe(true);
    expect(loadConfig({}, false).CONNECT_REGIONS).toEqual([...CONNECT_SERVICE_REGIONS]);
  });

  it("refuses a CONNECT_REGIONS entry that is not a region's name at start-up", () => {
    for (const value of ["us-east-1,*", "us-east-1,US-EAST-2", "eu-west-2 ap-southeast-2"]) {
      expect(() => loadConfig({ CONNECT_REGIONS: value }, false)).toThrow(ConfigError);
    }
    expect(() => loadConfig({ CONNECT_REGIONS: "*" }, false)).toThrow(/CONNECT_REGIONS.*region name/);
  });
});

describe("the partition an ARN may spell", () => {
  it("is its region's: aws-cn for cn-*, aws-us-gov for us-gov-*, aws for the others", () => {
    expect(partitionOf("us-east-1")).toBe("aws");
    expect(partitionOf("eu-west-2")).toBe("aws");
    expect(partitionOf("cn-north-1")).toBe("aws-cn");
    expect(partitionOf("cn-northwest-1")).toBe("aws-cn");
    expect(partitionOf("us-gov-west-1")).toBe("aws-us-gov");
    // Connect's regions: all in aws but GovCloud's.
    expect(CONNECT_SERVICE_REGIONS.filter((r) => partitionOf(r) !== "aws")).toEqual(["us-gov-west-1"]);
  });

  it("accepts an ARN in its region's partition, GovCloud and China included", () => {
    const china = regionsOf("us-east-1", ["cn-north-1"]);
    expect(contactArnArgument("arn", contactArn("us-gov-west-1", "aws-us-gov"), CONNECT).region).toBe("us-gov-west-1");
    expect(instanceArgument("instanceId", instanceArn("us-gov-west-1", "aws-us-gov"), CONNECT).region).toBe("us-gov-west-1");
    expect(contactArnArgument("arn", contactArn("cn-north-1", "aws-cn"), china).region).toBe("cn-north-1");
    expect(instanceArgument("instanceId", instanceArn("cn-north-1", "aws-cn"), china).region).toBe("cn-north-1");
  });

  it("refuses an ARN in another partition than its region's as it parses it: BAD_USER_INPUT naming the argument", () => {
    const china = regionsOf("us-east-1", ["cn-north-1"]);
    const cases: Array<[region: string, partition: string, regions: typeof CONNECT]> = [
      ["us-east-1", "aws-cn", CONNECT],
      ["us-east-1", "aws-us-gov", CONNECT],
      ["us-east-1", "awsxyz", CONNECT],
      ["eu-west-2", "aws-cn", CONNECT],
      ["us-gov-west-1", "aws", CONNECT],
      ["cn-north-1", "aws", china],
    ];
    for (const [region, partition, regions] of cases) {
      expect(refusal(() => contactArnArgument("arn", contactArn(region, partition), regions))).toEqual({
        extensions: { code: "BAD_USER_INPUT", argument: "arn" },
        message: `Argument "arn" names the partition "${partition}", but ARNs of the region "${region}" are in the partition "${partitionOf(region)}".`,
      });
      expect(refusal(() => instanceArgument("representations[1].instanceId", instanceArn(region, partition), regions)).extensions).toEqual({
        code: "BAD_USER_INPUT",
        argument: "representations[1].instanceId",
      });
    }
    // A region the gateway does not call is named as such first, whatever its partition.
    expect(refusal(() => contactArnArgument("arn", contactArn("cn-north-1", "aws-cn"), CONNECT)).message).toContain('names the region "cn-north-1"');
  });
});
