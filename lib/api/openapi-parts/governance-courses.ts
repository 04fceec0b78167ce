import { orderStatuses } from "../../db/schema";
import {
  body, bodyRejected, conflict, CROSS_SITE, fail, forbidden, invalid, notFound, ok, ref, schema, unauthorized, uuidParam, type OpenApiPart,
} from "../openapi-helpers";
import { acceptInvitationInput, courseInput, courseUpdateInput, renewInvitationsInput } from "../../courses/input";

const courseId = [uuidParam("id", "The course's id")];
const noCourse = notFound("No such course, or not one you teach or attend");
const teacherOnly = forbidden("only the course's teacher (or an admin) can do that", CROSS_SITE);
const orderStatus = { enum: [...orderStatuses] };
const courseProperties = {
  id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" }, status: { type: "string" },
  startsAt: { type: "string", format: "date-time" }, endsAt: { type: "string", format: "date-time" },
  capacity: { type: "integer", description: "Machines the course may have" }, fixedCapacity: { type: "boolean", description: "false: one machine per student on the roster" },
  image: { type: "string" }, flavor: { type: "string" }, students: { type: "integer" }, machines: { type: "integer", description: "Machines given out" },
};
const machineState = { type: "object", properties: { orderId: { type: "string", format: "uuid" }, name: { type: "string" }, status: orderStatus } };

/** Courses: teachers, rosters (CSV), invitations and one lab machine per student. */
export const governanceCourses: OpenApiPart = {
  paths: {
    "/api/v1/courses": {
      get: {
        operationId: "listCourses",
        summary: "Courses I teach (all for admins) and courses I attend, with my lab machine",
        responses: {
          "200": ok("Courses by start date", {
            type: "object",
            required: ["teaching", "attending"],
            properties: {
              teaching: { type: "array", items: ref("CourseSummary") },
              attending: {
                type: "array",
                items: { allOf: [ref("CourseSummary"), { type: "object", properties: { machine: { oneOf: [ref("LabMachine"), { type: "null" }] } } }] },
              },
            },
          }),
          ...unauthorized,
        },
      },
      post: {
        operationId: "createCourse",
        summary: "Create a course (approvers and admins): a course group with me as its teacher, dates, image, size and capacity",
        requestBody: body("CourseInput"),
        responses: {
          "201": ok("Created", { type: "object", required: ["id", "slug"], properties: { id: { type: "string", format: "uuid" }, slug: { type: "string" }, name: { type: "string" } } }),
          ...unauthorized,
          ...forbidden("only teachers (approvers) and admins create courses", CROSS_SITE),
          ...conflict("The short name is already used by another group or course"),
          ...bodyRejected("Invalid course: a field missing or wrong, dates in the wrong order, or an image, flavor or network that does not exist; a message per field"),
        },
      },
    },
    "/api/v1/courses/{id}": {
      get: {
        operationId: "getCourse",
        summary: "A course: for its teacher with roster and machines, for a student with their machine",
        parameters: courseId,
        responses: { "200": ok("The course", ref("CourseView")), ...unauthorized, ...noCourse },
      },
      patch: {
        operationId: "updateCourse",
        summary: "Change the capacity (null: one machine per student on the roster) or the end date (teacher)",
        parameters: courseId,
        requestBody: body("CourseUpdate"),
        responses: {
          "200": ok("The course", ref("CourseView")),
          ...unauthorized,
          ...teacherOnly,
          ...noCourse,
          ...conflict("The course has ended"),
          ...bodyRejected("A capacity below the machines already in use, an end date that is past or before the start, or an unknown field"),
        },
      },
    },
    "/api/v1/courses/{id}/roster": {
      post: {
        operationId: "uploadCourseRoster",
        summary:
          "Add students from a CSV roster (email[,name] a line, header optional): unknown e-mails get a student account and a one-time invitation link (returned once, e-mailed when SMTP is set). A bad line refuses the whole roster with a message per line",
        parameters: courseId,
        requestBody: {
          required: true,
          content: {
            "text/csv": { schema: { type: "string" } },
            "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", format: "binary" } } } },
            "application/json": { schema: { type: "object", required: ["csv"], additionalProperties: false, properties: { csv: { type: "string" } } } },
          },
        },
        responses: {
          "200": ok("Added; invitations with their links", ref("RosterResult")),
          ...unauthorized,
          ...teacherOnly,
          ...noCourse,
          ...conflict("The course has ended"),
          "415": fail("The body is none of text/csv, multipart/form-data or JSON { csv }"),
          ...invalid("Bad lines, keyed `line N`; no students; no file attached; or larger than 1 MB"),
        },
      },
    },
    "/api/v1/courses/{id}/invitations": {
      post: {
        operationId: "renewCourseInvitations",
        summary:
          "New one-time invitation links (teacher) for the named students, or all: true for every student of the roster who has not set a password yet. Each link replaces the student's earlier ones (which stop working), is e-mailed when SMTP is set, and is returned once",
        parameters: courseId,
        requestBody: body("RenewInvitations"),
        responses: {
          "200": ok("The new links (an empty list when every student has set a password)", {
            type: "object",
            required: ["invitations", "mail"],
            properties: { invitations: { type: "array", items: ref("Invitation") }, mail: ref("MailCount") },
          }),
          ...unauthorized,
          ...teacherOnly,
          ...noCourse,
          ...conflict("The course has ended, or a named student has already set a password"),
          ...bodyRejected("Neither or both of studentIds and all, an id that is not a UUID, or a student who is not on the roster (under studentIds)"),
        },
      },
    },
    "/api/v1/courses/{id}/machine": {
      post: {
        operationId: "requestLabMachine",
        summary: "Get my lab machine (students on the roster): 201 with a new machine, approved inside the course's allocation; 200 with the one I already have",
        parameters: courseId,
        responses: {
          "200": ok("My existing machine", ref("LabMachineRequest")),
          "201": ok("A new machine, queued", ref("LabMachineRequest")),
          ...unauthorized,
          ...forbidden("you teach this course but are not on its roster", CROSS_SITE),
          ...noCourse,
          ...conflict("The course has not started or has ended, all machines are taken, or its short name cannot name machines"),
        },
      },
    },
    "/api/v1/courses/{id}/machines/{studentId}/reset": {
      post: {
        operationId: "resetLabMachine",
        summary: "Reset a student's machine to the golden image (teacher): same name and addresses, guest and disk rebuilt",
        parameters: [...courseId, uuidParam("studentId", "The student's user id")],
        responses: {
          "200": ok("Rebuilding", { type: "object", properties: { ...machineState.properties, status: { enum: ["queued"] } } }),
          ...unauthorized,
          ...teacherOnly,
          ...notFound("No such course, or not one you teach or attend; or that student has no lab machine in it"),
          ...conflict("The machine is not ready (still being built or reset)"),
        },
      },
    },
    "/api/v1/courses/{id}/reset-all": {
      post: {
        operationId: "resetAllLabMachines",
        summary: "Reset every ready machine of the course (teacher); the others are listed with their state",
        parameters: courseId,
        responses: {
          "200": ok("Reset and skipped machines", {
            type: "object",
            required: ["reset", "skipped"],
            properties: {
              reset: { type: "array", items: { type: "string" }, description: "Names of the machines being rebuilt" },
              skipped: { type: "array", items: { type: "object", properties: { name: { type: "string" }, status: { type: "string", description: "Its order status, or busy" } } } },
            },
          }),
          ...unauthorized,
          ...teacherOnly,
          ...noCourse,
        },
      },
    },
    "/api/v1/invitations/accept": {
      post: {
        operationId: "acceptInvitation",
        summary: "Set the password of an invited account with its one-time token (no session needed)",
        security: [],
        requestBody: body("AcceptInvitation"),
        responses: {
          "200": ok("Password set; sign in with this e-mail", { type: "object", required: ["email"], properties: { email: { type: "string" } } }),
          ...conflict("The invitation was used or replaced by a newer link meanwhile"),
          ...bodyRejected("The token is not valid (never issued, or replaced by a newer link), already used or expired, or the password is too short"),
        },
      },
    },
  },
  schemas: {
    CourseInput: schema(courseInput),
    AcceptInvitation: schema(acceptInvitationInput),
    CourseUpdate: schema(courseUpdateInput),
    RenewInvitations: schema(renewInvitationsInput),
    Invitation: {
      type: "object",
      description: "A one-time link to set a password, shown once (only its hash is stored)",
      properties: { studentId: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, link: { type: "string" } },
    },
    MailCount: {
      type: "object",
      description: "Invitations queued for e-mail (sent by the worker, retried while the mail server is down), and skipped (no mail server configured)",
      properties: { queued: { type: "integer" }, skipped: { type: "integer" } },
    },
    CourseSummary: { type: "object", properties: courseProperties },
    LabMachine: {
      type: "object",
      properties: {
        studentId: { type: "string", format: "uuid" }, orderId: { type: "string", format: "uuid" }, resets: { type: "integer" }, name: { type: "string" },
        status: orderStatus, reason: { type: ["string", "null"] }, envState: { type: ["string", "null"] },
        expiresAt: { type: ["string", "null"], format: "date-time" }, ip: { type: ["string", "null"], description: "Its production address" },
      },
    },
    LabMachineRequest: { ...machineState, properties: { ...machineState.properties, created: { type: "boolean" } } },
    CourseView: {
      type: "object",
      properties: {
        ...courseProperties,
        teacher: { type: "object", properties: { email: { type: "string" }, name: { type: "string" } } },
        isTeacher: { type: "boolean" },
        roster: {
          type: "array",
          description: "Empty for a student",
          items: { type: "object", properties: { userId: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, invited: { type: "boolean" }, addedAt: { type: "string", format: "date-time" } } },
        },
        machines: { type: "array", description: "Every machine for the teacher; a student's own", items: ref("LabMachine") },
      },
    },
    RosterResult: {
      type: "object",
      properties: {
        students: { type: "integer" }, added: { type: "integer" },
        alreadyOnRoster: { type: "array", items: { type: "string" } },
        duplicates: { type: "array", items: { type: "object", properties: { line: { type: "integer" }, message: { type: "string" } } } },
        invitations: { type: "array", description: "New students' links", items: ref("Invitation") },
        notSignedIn: {
          type: "array",
          description: "Students of this roster whose account was made earlier and who never set a password: POST /api/v1/courses/{id}/invitations sends them a new link",
          items: { type: "object", properties: { studentId: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" } } },
        },
        mail: ref("MailCount"),
      },
    },
  },
};
