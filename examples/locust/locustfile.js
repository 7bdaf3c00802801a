// locustfile.js: the seed's locustfile.py, translated to surge's
// Locust-style users (see docs/scripts.md). Run it with
//   surge run examples/locust/locustfile.js            # the StepLoadShape drives users
//   surge run --vus 10 --duration 30s examples/locust/locustfile.js
//   surge run --include-tag read examples/locust/locustfile.js
import { between } from "surge/locust";

export const users = [
  {
    name: "APIUser",
    wait: between(1, 3), // seconds between tasks
    host: __ENV.HOST || "http://localhost:8000",

    onStart(u) {
      const resp = u.client.post("/auth/login", {
        json: { username: "loadtest", password: "secret" },
      });
      u.token = resp.json().access_token;
      u.headers = { Authorization: `Bearer ${u.token}` };
    },

    tasks: [
      {
        name: "list_items",
        weight: 10, // 10x more likely than weight-1 tasks
        tags: ["read"],
        fn(u) {
          const resp = u.client.get("/api/items", { headers: u.headers, catchResponse: true });
          if (resp.status === 200 && resp.json().length > 0) {
            resp.success();
          } else {
            resp.failure(`Unexpected: ${resp.status}`);
          }
        },
      },
      {
        name: "create_item",
        weight: 1,
        tags: ["write"],
        fn(u) {
          u.client.post("/api/items", {
            headers: u.headers,
            json: { name: "load-test-item", value: 42 },
          });
        },
      },
    ],
  },
];

// StepLoadShape: ramp up in steps, hold, ramp down. t is the run time in
// seconds; return {users, spawnRate}, or null to stop (Locust's tick()).
const stages = [
  { duration: 30, users: 10, spawnRate: 10 },
  { duration: 60, users: 50, spawnRate: 10 },
  { duration: 120, users: 100, spawnRate: 10 },
  { duration: 240, users: 100, spawnRate: 10 }, // hold
  { duration: 270, users: 0, spawnRate: 10 }, // ramp down
];

export function shape(t) {
  for (const stage of stages) {
    if (t < stage.duration) {
      return { users: stage.users, spawnRate: stage.spawnRate };
    }
  }
  return null;
}
