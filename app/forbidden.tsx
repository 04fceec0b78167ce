import { AccessDenied } from "@/components/AccessDenied";

/** Rendered with HTTP 403 when a page calls forbidden(): the signed-in user's role does not open it. */
export default function Forbidden() {
  return <AccessDenied needs="Your role does not open this page." />;
}
