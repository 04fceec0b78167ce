import { apiRoute, json } from "@/lib/api/handler";
import { getRecipe } from "@/lib/recipes/describe";

export const dynamic = "force-dynamic";

export const GET = apiRoute({}, async ({ params }) => json(getRecipe(params.slug)));
