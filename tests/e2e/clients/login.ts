// A browser or Node app using the types openapi-typescript made from the documents, default
// options: it logs in with only the parameters it has (no client_id, no client_secret) and
// writes a profile without a bio. tsc --strict refuses it if the documents made either a
// required field; the run shows what was sent and what came back.
import type { paths } from "./auth";
import type { paths as profilePaths } from "./profile";

type Login = paths["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"];
type ProfileChange = profilePaths["/profiles/{user_id}"]["put"]["requestBody"]["content"]["application/json"];
type TokenResponse = paths["/token"]["post"]["responses"][200]["content"]["application/json"];

declare const process: { argv: string[] };

async function main(): Promise<void> {
  const [authUrl, profileUrl, userId, username, password] = process.argv.slice(2);
  const login: Login = { grant_type: "password", username, password };
  const form = new URLSearchParams(Object.entries(login).map(([name, value]) => [name, String(value)]));
  const answer = await fetch(`${authUrl}/token`, { method: "POST", body: form });
  const tokens = (await answer.json()) as TokenResponse;

  const change: ProfileChange = { display_name: "Typed" };
  const written = await fetch(`${profileUrl}/profiles/${userId}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${tokens.access_token}`, "Content-Type": "application/json" },
    body: JSON.stringify(change),
  });
  console.log(JSON.stringify({ sent: form.toString(), login: answer.status, profile: written.status }));
}

main();
