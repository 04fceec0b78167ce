import { body, errors, ok, schema, type OpenApiPart } from "../openapi-helpers";
import { acceptInvitationInput, courseInput, courseUpdateInput } from "../../courses/input";

const idParam = [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }];

/** Courses: teachers, rosters (CSV), invitations and one lab machine per student. */
export const governanceCourses: OpenApiPart = {
  paths: {
    "/api/v1/courses": {
      get: { summary: "Courses I teach (all for admins) and courses I attend, with my lab machine", responses: { "200": ok("Courses"), ...errors } },
      post: {
        summary: "Create a course (approvers and admins): a course group with me as its teacher, dates, image, size and capacity",
        requestBody: body("CourseInput"),
        responses: { "201": ok("Created", { type: "object", properties: { id: { type: "string" }, slug: { type: "string" } } }), ...errors },
      },
    },
    "/api/v1/courses/{id}": {
      get: { summary: "A course: for its teacher with roster and machines, for a student with their machine", parameters: idParam, responses: { "200": ok("The course"), ...errors } },
      patch: {
        summary: "Change the capacity (null: one machine per student on the roster) or the end date (teacher)",
        parameters: idParam,
        requestBody: body("CourseUpdate"),
        responses: { "200": ok("The course"), ...errors },
      },
    },
    "/api/v1/courses/{id}/roster": {
      post: {
        summary:
          "Add students from a CSV roster (email[,name] a line, header optional): unknown e-mails get a student account and a one-time invitation link (returned once, e-mailed when SMTP is set). A bad line refuses the whole roster with a message per line",
        parameters: idParam,
        requestBody: {
          required: true,
          content: {
            "text/csv": { schema: { type: "string" } },
            "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", format: "binary" } } } },
            "application/json": { schema: { type: "object", properties: { csv: { type: "string" } } } },
          },
        },
        responses: { "200": ok("Added; invitations with their links"), ...errors, "422": ok("Bad lines, keyed `line N`", { $ref: "#/components/schemas/Error" }) },
      },
    },
    "/api/v1/courses/{id}/machine": {
      post: {
        summary: "Get my lab machine (students on the roster): 201 with a new machine, approved inside the course's allocation; 200 with the one I already have",
        parameters: idParam,
        responses: { "200": ok("My existing machine"), "201": ok("A new machine, queued"), ...errors, "409": ok("Course not running, or all machines taken", { $ref: "#/components/schemas/Error" }) },
      },
    },
    "/api/v1/courses/{id}/machines/{studentId}/reset": {
      post: {
        summary: "Reset a student's machine to the golden image (teacher): same name and addresses, guest and disk rebuilt",
        parameters: [...idParam, { name: "studentId", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
        responses: { "200": ok("Rebuilding"), ...errors },
      },
    },
    "/api/v1/courses/{id}/reset-all": {
      post: { summary: "Reset every ready machine of the course (teacher); the others are listed with their state", parameters: idParam, responses: { "200": ok("Reset and skipped machines"), ...errors } },
    },
    "/api/v1/invitations/accept": {
      post: {
        summary: "Set the password of an invited account with its one-time token (no session needed)",
        security: [],
        requestBody: body("AcceptInvitation"),
        responses: { "200": ok("Password set; sign in"), "422": errors["422"] },
      },
    },
  },
  schemas: {
    CourseInput: schema(courseInput),
    AcceptInvitation: schema(acceptInvitationInput),
    CourseUpdate: schema(courseUpdateInput),
  },
};
