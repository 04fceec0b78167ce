import { UnrecoverableError, type Job } from "bullmq";
import type { Db } from "@/lib/db/client";
import { queues } from "@/lib/jobs/queues";
import { deliverMail, MailRefusedError } from "@/lib/mail/outbox";

/**
 * Sends one e-mail of the outbox. A failure is retried by the queue with doubling waits
 * (MAIL_RETRY_MS, MAIL_ATTEMPTS); the last attempt marks the mail failed. A mail the server
 * refused for good (its recipient, its content) is not retried.
 */
export function mailProcessor(db: Db) {
  return async (job: Job) => {
    const { mailId } = queues.mail.payload.parse(job.data);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      return await deliverMail(db, mailId, { lastAttempt });
    } catch (err) {
      throw err instanceof MailRefusedError ? new UnrecoverableError(err.message) : err;
    }
  };
}
