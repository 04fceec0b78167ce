export * from "./users";
export * from "./catalog";
export * from "./hosts";
export * from "./networks";
export * from "./orders";
export * from "./lifecycle";
