"use client";

import Link from "next/link";
import { useState, type ReactNode } from "react";
import type { Preflight } from "@/lib/policy/preflight";
import { decisionConfirmation, type Decision } from "../orders/DecisionActions";
import { ApprovalDecision } from "./ApprovalDecision";

/**
 * One held order in the approval queue: what it is and why it is held (`children`), with the
 * decision beside it. Once decided the card becomes a one-line confirmation that stays until
 * the page is loaded again, instead of the list dropping the card under the approver's hand.
 */
export function ApprovalCard({ orderId, orderName, preflight, children }: { orderId: string; orderName: string; preflight: Preflight; children: ReactNode }) {
  const [decided, setDecided] = useState<Decision | null>(null);
  if (decided) {
    return (
      <li className="card flex flex-wrap items-center justify-between gap-2 border-l-4 border-l-emerald-400 px-5 py-3" data-testid="approval-item" data-order-name={orderName} data-decided={decided}>
        <p role="status" className="text-sm font-medium text-emerald-900" data-testid="decision-done">{decisionConfirmation(decided, orderName)}</p>
        <Link prefetch={false} href={`/orders/${orderId}`} className="text-sm text-sky-700 hover:underline">Open the order</Link>
      </li>
    );
  }
  return (
    <li className="card p-5" data-testid="approval-item" data-order-name={orderName}>
      <div className="grid grid-cols-1 gap-5 lg:grid-cols-3">
        <div className="min-w-0 lg:col-span-2">{children}</div>
        <div className="lg:border-l lg:border-slate-100 lg:pl-5">
          <ApprovalDecision orderId={orderId} orderName={orderName} preflight={preflight} onDecided={setDecided} />
        </div>
      </div>
    </li>
  );
}
