// load_test.js
//   BASE_URL=http://localhost:8000 surge run examples/k6/load_test.js
import http from "k6/http";
import { check, sleep } from "k6";
import { Rate } from "k6/metrics";
const base = __ENV.BASE_URL || "http://localhost:8000";
const errorRate = new Rate("errors");
export const options = {
  stages: [
    { duration: "30s", target: 20 }, // ramp up
    { duration: "1m", target: 20 }, // hold
    { duration: "10s", target: 0 }, // ramp down
  ],
  thresholds: {
    http_req_duration: ["p(95)<500", "p(99)<1000"],
    errors: ["rate<0.01"],
  },
};
export function setup() {
  // log in once; every iteration sends the token
  const res = http.post(`${base}/auth/login`, JSON.stringify({ username: "loadtest", password: "secret" }), {
    headers: { "Content-Type": "application/json" },
  });
  return { token: res.json().access_token };
}
export default function (data) {
  const res = http.get(`${base}/api/items`, {
    headers: { Authorization: `Bearer ${data.token}` },
  });
  check(res, {
    "status is 200": (r) => r.status === 200,
    "body has items": (r) => JSON.parse(r.body).length > 0,
  }) || errorRate.add(1);
  sleep(1);
}
