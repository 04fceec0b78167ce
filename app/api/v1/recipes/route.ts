import { apiRoute, json } from "@/lib/api/handler";
import { listRecipes } from "@/lib/recipes/describe";

export const dynamic = "force-dynamic";

/** The recipes catalog items can run at first boot, with their parameters as JSON Schema. */
export const GET = apiRoute({}, async () => json({ recipes: listRecipes() }));
