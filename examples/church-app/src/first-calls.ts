// A church app's first calls to intercede, through a client generated from the published
// OpenAPI document: `npm run generate` writes the types (src/intercede.d.ts) with
// openapi-typescript, and openapi-fetch makes every path, body and answer below type-checked
// against them. docs/clients.md explains it; `examples/church-app/run.sh` runs it against a
// fresh service, as CI does.
//
//   node dist/first-calls.js http://127.0.0.1:8080

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./intercede.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = process.argv[2] ?? "http://127.0.0.1:8080";
const api = createClient<paths>({ baseUrl });

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`expected: ${what}`);
  }
  console.log(`ok: ${what}`);
}

// 1. A new member registers and signs in.
const email = `ruth.${Date.now()}@example.org`;
const password = "a long church password";
const registered = await api.POST("/api/v1/auth/register", {
  body: { email, password, display_name: "Ruth", timezone: "America/New_York" },
});
check(registered.response.status === 201, "registering answers 201 with the member");
check(registered.data?.role === "member", "a new account is a plain member");

const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
const tokens = login.data;
check(tokens !== undefined && tokens.token_type === "Bearer", "signing in gives a bearer token");

// Every later call carries the access token.
const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${tokens.access_token}`);
    return request;
  },
};
api.use(bearer);

const me = await api.GET("/api/v1/me");
check(me.data?.email === email, "GET /me is the member who signed in");

// 2. The categories a request can take.
const categories = await api.GET("/api/v1/categories", { params: { query: { limit: 100 } } });
const names = categories.data?.items.map((c) => c.name) ?? [];
check(names.includes("healing"), "the seeded categories include healing");

// 3. A request for someone else needs `on_behalf_of`: the schema says so, and the service answers
// a problem naming the field when it is left out.
const missing = await api.POST("/api/v1/prayer-requests", {
  body: { title: "For my father", body: "Surgery on Friday.", category: "healing", kind: "intercession" },
});
const problem: Problem | undefined = missing.error;
check(missing.response.status === 422, "an intercession without on_behalf_of is 422");
check(
  problem?.errors?.some((e) => e.field === "on_behalf_of") === true,
  "the problem names on_behalf_of",
);

const created = await api.POST("/api/v1/prayer-requests", {
  body: {
    title: "For my father",
    body: "Surgery on Friday.",
    category: "healing",
    kind: "intercession",
    on_behalf_of: "my father",
    visibility: "congregation",
  },
});
const request = created.data;
check(created.response.status === 201 && request !== undefined, "the request is created");
check(request.status === "active", "a member's request starts active");

// 4. Someone prays, and the count shows it.
const prayed = await api.POST("/api/v1/prayer-requests/{id}/prayers", {
  params: { path: { id: request.id } },
  body: { note: "Praying for steady hands." },
});
check(prayed.response.status === 201, "I prayed answers 201");

const read = await api.GET("/api/v1/prayer-requests/{id}", { params: { path: { id: request.id } } });
check(read.data?.prayer_count === 1, "prayer_count is 1");

const mine = await api.GET("/api/v1/prayer-requests", { params: { query: { mine: true } } });
check(mine.data?.items.some((r) => r.id === request.id) === true, "my list holds the request");

// 5. Signing out ends the refresh token.
const out = await api.POST("/api/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } });
check(out.response.status === 204, "signing out answers 204");
