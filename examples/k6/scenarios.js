// scenarios.js: several workloads at once, each with its own executor,
// function, environment and tags; setup() logs in once and every
// iteration gets its token.
//   BASE_URL=http://localhost:8000 surge run examples/k6/scenarios.js
import http from "k6/http";
import { check, group, sleep } from "k6";
import { Counter, Trend } from "k6/metrics";
import exec from "k6/execution";

const base = __ENV.BASE_URL || "http://localhost:8000";
const created = new Counter("items_created");
const listSize = new Trend("list_size");

export const options = {
  scenarios: {
    browse: {
      executor: "constant-vus", vus: 3, duration: "2s", exec: "browse",
      tags: { flow: "browse" },
    },
    create: {
      executor: "constant-arrival-rate", rate: 20, timeUnit: "1s", duration: "2s",
      preAllocatedVUs: 2, maxVUs: 5, exec: "create", startTime: "500ms",
      env: { ITEM_NAME: "from-scenario" },
    },
    once: { executor: "per-vu-iterations", vus: 1, iterations: 1, exec: "browse" },
  },
  thresholds: {
    "http_req_duration{flow:browse}": ["p(95)<500"],
    http_req_failed: [{ threshold: "rate<0.05", abortOnFail: true, delayAbortEval: "1s" }],
    checks: ["rate>0.99"],
  },
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

export function setup() {
  const r = http.post(`${base}/auth/login`, JSON.stringify({ username: "loadtest", password: "secret" }), {
    headers: { "Content-Type": "application/json" },
  });
  return { token: r.json().access_token };
}

export function browse(data) {
  group("items", () => {
    const r = http.get(`${base}/api/items`, {
      headers: { Authorization: `Bearer ${data.token}` },
      tags: { name: "GET /api/items" },
    });
    check(r, { "status is 200": (r) => r.status === 200 });
    listSize.add(r.json().length);
  });
  sleep(0.2);
}

export function create(data) {
  const r = http.post(`${base}/api/items`, JSON.stringify({ name: __ENV.ITEM_NAME, vu: exec.vu.idInTest }), {
    headers: { Authorization: `Bearer ${data.token}`, "Content-Type": "application/json" },
  });
  if (check(r, { "created": (r) => r.status === 201 })) created.add(1);
}
