import http from 'k6/http';
import { check } from 'k6';
import { path } from './lib/paths.js';

export const options = {
  vus: 10,
  duration: '1m',
  thresholds: { http_req_duration: ['p(95)<300'] },
};

export default function () {
  const res = http.get(__ENV.BASE_URL + path);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
