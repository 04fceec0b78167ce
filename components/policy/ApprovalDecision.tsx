"use client";

import { useState } from "react";
import type { Preflight } from "@/lib/policy/preflight";
import { DecisionActions } from "../orders/DecisionActions";
import { PreflightChecks } from "./PreflightChecks";

/** Pre-flight results next to the approve/reject buttons; a failed pre-flight asks for an override. */
export function ApprovalDecision({ orderId, orderName, preflight, onDone }: { orderId: string; orderName: string; preflight: Preflight; onDone?: () => void | Promise<void> }) {
  const [current, setCurrent] = useState(preflight);
  return (
    <div className="space-y-4">
      <PreflightChecks initial={preflight} onChange={setCurrent} />
      <DecisionActions key={String(current.ok)} orderId={orderId} orderName={orderName} preflightOk={current.ok} onDone={onDone} />
    </div>
  );
}
