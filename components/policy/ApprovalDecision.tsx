"use client";

import { useState } from "react";
import type { Preflight } from "@/lib/policy/preflight";
import { DecisionActions, type Decision } from "../orders/DecisionActions";
import { PreflightChecks } from "./PreflightChecks";

/** Pre-flight results next to the approve/reject buttons; a failed pre-flight asks for an override. */
export function ApprovalDecision({
  orderId,
  orderName,
  preflight,
  onDone,
  onDecided,
}: {
  orderId: string;
  orderName: string;
  preflight: Preflight;
  onDone?: () => void | Promise<void>;
  onDecided?: (decision: Decision) => void;
}) {
  const [current, setCurrent] = useState(preflight);
  return (
    <div className="space-y-4">
      <PreflightChecks initial={preflight} onChange={setCurrent} />
      <DecisionActions key={String(current.ok)} orderId={orderId} orderName={orderName} preflightOk={current.ok} onDone={onDone} onDecided={onDecided} />
    </div>
  );
}
