import { integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { orders } from "./orders";
import { users } from "./users";

/**
 * Files uploaded with an order for its recipe (e.g. the web service's site as a .tar.gz),
 * checked and size-limited when the order was made; base64, read at deploy time.
 */
export const orderUploads = pgTable(
  "order_uploads",
  {
    orderId: uuid("order_id").notNull().references(() => orders.id),
    /** The recipe's form field the file came with. */
    field: text("field").notNull(),
    fileName: text("file_name").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    data: text("data").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.field] })],
);

/**
 * Secrets a recipe's outputs hand to the owner (a generated password): made at deploy time,
 * kept in clear only until the owner has seen it once, then only as a hash (sha256 of a
 * random value of 144 bits: no guessing it back).
 */
export const orderSecrets = pgTable(
  "order_secrets",
  {
    orderId: uuid("order_id").notNull().references(() => orders.id),
    name: text("name").notNull(),
    /** The clear value until revealed; null afterwards. */
    value: text("value"),
    hash: text("hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revealedAt: timestamp("revealed_at", { withTimezone: true }),
    revealedBy: uuid("revealed_by").references(() => users.id),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.name] })],
);
