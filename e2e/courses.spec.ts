import { expect, test } from "@playwright/test";
import { authFile, users } from "./users";

test.use({ storageState: authFile("approver") });

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

test("a teacher creates a course, uploads a roster (after fixing a bad line), a student gets a lab machine and the teacher resets it", async ({ page, browser }) => {
  const slug = `os${Date.now().toString(36).slice(-6)}`;
  const newStudent = `${slug}-ann@uni.test`;

  // Create the course.
  await page.goto("/courses");
  await expect(page.getByRole("heading", { name: "Courses", exact: true })).toBeVisible();
  const form = page.getByRole("form", { name: "Create a course" });
  await form.getByLabel("Course name").fill(`Operating Systems ${slug}`);
  await form.getByLabel("Short name").fill("1bad");
  await expect(form.getByText("Use lowercase letters, digits and hyphens; start with a letter")).toBeVisible();
  await form.getByLabel("Short name").fill(slug);
  await form.getByLabel("Image (golden image of every lab machine)").selectOption("linux-test");
  await form.getByLabel("Size").selectOption("small");
  await form.getByLabel("Starts on").fill(day(0));
  await form.getByLabel("Ends on (machines are retired after this day)").fill(day(-1));
  await expect(form.getByText("The course must end after it starts")).toBeVisible();
  await form.getByLabel("Ends on (machines are retired after this day)").fill(day(14));
  await form.getByRole("button", { name: "Create course" }).click();
  // Creating a course opens it.
  await expect(page).toHaveURL(/\/courses\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: `Operating Systems ${slug}` })).toBeVisible();
  await expect(page.getByText("No students yet: upload the roster above.")).toBeVisible();

  // A roster with a bad line is refused whole, naming the line.
  const upload = page.getByRole("form", { name: "Upload the roster" });
  await upload.getByLabel("…or paste it").fill(`email,name\n${users.student.email},Sam\nnot-an-address,Bob\n`);
  await upload.getByRole("button", { name: "Upload roster" }).click();
  await expect(page.getByTestId("roster-error")).toContainText("1 line is not valid; nothing was added");
  await expect(page.getByTestId("roster-error")).toContainText('line 3: "not-an-address" is not an e-mail address');
  await page.screenshot({ path: "test-results/course-roster-error.png", fullPage: true });

  // The fixed roster as a CSV file: the known student is added, the new one invited.
  await upload.getByLabel("…or paste it").fill("");
  await upload.getByLabel("CSV file").setInputFiles({
    name: "roster.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(`email,name\n${users.student.email},Sam Student\n${newStudent},Ann New\n${newStudent},Ann again\n`),
  });
  await upload.getByRole("button", { name: "Upload roster" }).click();
  const result = page.getByTestId("roster-result");
  await expect(result).toContainText("Added 2 of 2 students");
  await expect(result).toContainText(`line 4: ${newStudent} is already on line 3; kept once`);
  await expect(result.getByRole("list", { name: "Invitation links" }).getByRole("listitem")).toHaveCount(1);
  await expect(result.getByTestId("invitation-link")).toContainText("/invite/");
  await expect(page.getByTestId("roster-row")).toHaveCount(2);
  await expect(page.getByTestId("roster-row").filter({ hasText: newStudent })).toContainText("invited, no password yet");
  await page.screenshot({ path: "test-results/course-roster.png", fullPage: true });

  // A set block of machines instead of one per student.
  const settings = page.getByRole("form", { name: "Course settings" });
  await settings.getByLabel("Lab machines").fill("0");
  await settings.getByRole("button", { name: "Save" }).click();
  await expect(settings.getByText("Capacity is at least 1")).toBeVisible();
  await settings.getByLabel("Lab machines").fill("5");
  await settings.getByRole("button", { name: "Save" }).click();
  await expect(settings.getByRole("status")).toHaveText("Saved");
  await expect(page.getByText("0 of 5 lab machines in use")).toBeVisible();

  // The invited student sets a password with the one-time link.
  const link = await result.getByTestId("invitation-link").textContent();
  const anon = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const invitee = await anon.newPage();
  await invitee.goto(link!.trim());
  await expect(invitee.getByText(`Choose a password for ${newStudent}`)).toBeVisible();
  await invitee.getByLabel("New password").fill("ann-lab-password");
  await invitee.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(invitee).toHaveURL(/\/courses$/);
  await invitee.goto(link!.trim());
  await expect(invitee.getByText("This invitation link was already used. Sign in with the password you set.")).toBeVisible();
  await anon.close();

  // The student gets a lab machine by self-service.
  const studentContext = await browser.newContext({ storageState: authFile("student") });
  const student = await studentContext.newPage();
  await student.goto("/courses");
  const card = student.getByTestId("attending-course").filter({ hasText: `Operating Systems ${slug}` });
  await card.getByRole("button", { name: "Get my lab machine" }).click();
  await expect(card.getByTestId("machine-status")).toBeVisible();
  await expect(card.getByRole("link", { name: `${slug}-01` })).toBeVisible();
  await expect(card.getByTestId("machine-status")).toHaveText("ready", { timeout: 60_000 });
  await expect(card.getByTestId("machine-ip")).toHaveText(/^10\.30\.0\.\d+$/);
  const ip = await card.getByTestId("machine-ip").textContent();
  await student.screenshot({ path: "test-results/course-student.png", fullPage: true });

  // The teacher resets it to the golden image: same name and address, rebuilt.
  await page.reload();
  const row = page.getByTestId("roster-row").filter({ hasText: users.student.email });
  await expect(row.getByTestId("machine-status")).toHaveText("ready");
  await row.getByRole("button", { name: `Reset ${slug}-01` }).click();
  await row.getByRole("button", { name: "Yes, reset" }).click();
  await expect(row.getByTestId("machine-status")).not.toHaveText("ready");
  await page.screenshot({ path: "test-results/course-reset-running.png", fullPage: true });
  await expect(row.getByTestId("machine-status")).toHaveText("ready", { timeout: 60_000 });
  await expect(row.getByTestId("machine-ip")).toHaveText(ip!);
  await expect(row.getByRole("cell").nth(3)).toHaveText("1");
  await page.screenshot({ path: "test-results/course-reset.png", fullPage: true });

  // The machine's page shows the rebuild: stop and remove, then the whole pipeline.
  await row.getByRole("link", { name: `${slug}-01` }).click();
  await expect(page.getByTestId("order-status")).toHaveText("ready");
  await expect(page.getByText("Remove guest and storage")).toBeVisible();
  await expect(page.getByTestId("lease-course")).toContainText(`A lab machine of the course Operating Systems ${slug}`);
  await expect(page.getByRole("form", { name: "Extend the lease" })).toHaveCount(0);
  await page.screenshot({ path: "test-results/course-machine-order.png", fullPage: true });

  // The student was told.
  await student.goto("/notifications");
  await expect(student.getByTestId("notification").filter({ hasText: `${slug}-01 is being reset to the golden image` })).toBeVisible();
  await studentContext.close();
});
