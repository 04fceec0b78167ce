import { describe, expect, it } from "vitest";
import { courseFormBody, courseInput, courseSettingsBody, courseUpdateInput, renewInvitationsInput } from "@/lib/courses/input";
import { fieldErrors } from "@/lib/validation/fields";

const course = { name: "Operating Systems", slug: "os-lab", image: "linux-test", flavor: "small", startsOn: "2026-12-06", endsOn: "2026-12-20", capacity: "" };
const errors = (r: { success: boolean; error?: Parameters<typeof fieldErrors>[0] }) => (r.success ? {} : fieldErrors(r.error!));

describe("course dates", () => {
  it("take the form the portal shows dates in, 2026-12-06", () => {
    expect(courseInput.parse(courseFormBody(course))).toMatchObject({ startsOn: "2026-12-06", endsOn: "2026-12-20", capacity: undefined });
    expect(courseInput.parse(courseFormBody({ ...course, endsOn: " 2026-12-21 " })).endsOn).toBe("2026-12-21");
  });

  it("refuse a locale's form, a day that is not in the calendar and an empty field, with one message each", () => {
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, endsOn: "06/12/2026" })))).toEqual({ endsOn: ["Enter the date as YYYY-MM-DD, e.g. 2026-12-06"] });
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, startsOn: "2026-02-30" })))).toEqual({ startsOn: ["2026-02-30 is not a day of the calendar"] });
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, endsOn: "2026-13-01" })))).toEqual({ endsOn: ["2026-13-01 is not a day of the calendar"] });
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, endsOn: "" })))).toEqual({ endsOn: ["Enter the date as YYYY-MM-DD, e.g. 2026-12-06"] });
  });

  it("compare start and end only when both are days", () => {
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, endsOn: "2026-12-06" })))).toEqual({ endsOn: ["The course must end after it starts"] });
    expect(errors(courseInput.safeParse(courseFormBody({ ...course, startsOn: "2026/12/30" })))).toEqual({ startsOn: ["Enter the date as YYYY-MM-DD, e.g. 2026-12-06"] });
  });

  it("the settings form: an empty capacity is one machine per student, a word is not a number", () => {
    expect(courseUpdateInput.parse(courseSettingsBody({ capacity: "", endsOn: "2026-12-31" }))).toEqual({ capacity: null, endsOn: "2026-12-31" });
    expect(errors(courseUpdateInput.safeParse(courseSettingsBody({ capacity: "five", endsOn: "31.12.2026" })))).toEqual({
      capacity: ["Capacity is a number of machines"],
      endsOn: ["Enter the date as YYYY-MM-DD, e.g. 2026-12-06"],
    });
  });
});

describe("new invitation links", () => {
  it("name students or ask for all, not both and not neither", () => {
    const id = "4b0f3a52-8d47-4a8e-9a51-6f0e9f3c2d10";
    expect(renewInvitationsInput.parse({ studentIds: [id] })).toEqual({ studentIds: [id] });
    expect(renewInvitationsInput.parse({ all: true })).toEqual({ all: true });
    const both = "Send studentIds (a list of students) or all: true, not both";
    expect(errors(renewInvitationsInput.safeParse({}))).toEqual({ _: [both] });
    expect(errors(renewInvitationsInput.safeParse({ all: true, studentIds: [id] }))).toEqual({ _: [both] });
    expect(errors(renewInvitationsInput.safeParse({ all: false }))).toMatchObject({ all: ["all is true or left out"] });
    expect(errors(renewInvitationsInput.safeParse({ studentIds: ["ann"] }))).toMatchObject({ "studentIds.0": ["Not a student's id"] });
  });
});
