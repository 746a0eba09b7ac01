// The otpgate operator console: plain DOM, no framework, nothing fetched from elsewhere.
// Every call goes to this gateway's operator API with the key kept in session storage;
// text is always set with textContent, never parsed as HTML.
"use strict";

const KEY = "otpgate-operator-key";
const PAGES = ["overview", "holds", "risk", "policy", "tenants", "charts"];
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#12355b", "#c0392b", "#2e7d32", "#8e44ad", "#e67e22", "#00838f"];
let shownTenant = null;
let refresher = null;

function key() {
  return sessionStorage.getItem(KEY);
}

async function api(method, path, body) {
  const options = { method, headers: { Authorization: `Bearer ${key()}` } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    logout("The key was refused.");
    throw new Error("unauthorised");
  }
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  return { status: response.status, data };
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  row.appendChild(td);
  return td;
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// -- pages -------------------------------------------------------------------------------

async function showOverview() {
  const [status, health, peers] = await Promise.all([
    api("GET", "/v1/status"),
    api("GET", "/v1/signals/health"),
    api("GET", "/v1/peers"),
  ]);
  document.getElementById("node").textContent = status.data.node ?? "–";
  const open = status.data.holds_open ?? {};
  document.getElementById("holds-open").textContent = String(
    (open.held ?? 0) + (open.releasing ?? 0),
  );
  const outage = health.data.outage ? "OUTAGE" : "up";
  document.getElementById("feed").textContent = outage;
  fill(
    document.getElementById("esme-binds"),
    Object.entries(status.data.esme_binds ?? {}).map(([account, modes]) => {
      const row = document.createElement("tr");
      cell(row, account);
      cell(row, modes.length ? `${modes.length} (${modes.join(", ")})` : "0");
      return row;
    }),
  );
  fill(
    document.getElementById("upstream-binds"),
    (status.data.upstream ?? []).map((pool) => {
      const row = document.createElement("tr");
      cell(row, pool.route);
      cell(row, pool.binds);
      return row;
    }),
  );
  showPeers(peers.data.peers ?? []);
  document.getElementById("refreshed").textContent = `Last: ${new Date().toISOString()}`;
}

// Other operators' CAMARA APIs: shown only when the gateway has some.
function showPeers(peers) {
  document.getElementById("peers-panel").hidden = peers.length === 0;
  fill(
    document.getElementById("peer-rows"),
    peers.map((peer) => {
      const row = document.createElement("tr");
      row.dataset.peer = peer.name;
      cell(row, peer.name);
      cell(row, peer.breaker).className = `breaker ${peer.breaker}`;
      cell(row, peer.token_valid_s > 0 ? `valid ${Math.round(peer.token_valid_s)} s` : "none");
      cell(row, `${peer.calls_ok} ok, ${peer.calls_failed} failed`);
      const reasons = Object.entries(peer.failures ?? {}).map(([reason, n]) => `${reason} ${n}`);
      cell(row, reasons.length ? reasons.join(", ") : "0");
      cell(row, peer.cache_hits);
      cell(row, peer.latency_mean_ms === null ? null : `${peer.latency_mean_ms} ms`);
      cell(row, peer.last_error);
      return row;
    }),
  );
}

async function showHolds() {
  const state = document.getElementById("hold-state").value;
  const answer = await api("GET", `/v1/holds?state=${encodeURIComponent(state)}&limit=100`);
  fill(
    document.getElementById("hold-rows"),
    answer.data.holds.map((hold) => {
      const row = document.createElement("tr");
      row.dataset.hold = hold.id;
      cell(row, hold.id);
      cell(row, hold.state).className = "state";
      cell(row, hold.account);
      cell(row, hold.destination);
      cell(row, hold.rule);
      cell(row, hold.created_at);
      cell(row, hold.expires_at);
      const actions = cell(row, "");
      if (hold.state === "held") {
        for (const action of ["release", "cancel"]) {
          const label = action === "release" ? "Release" : "Cancel";
          actions.appendChild(button(label, action, () => act(hold.id, action)));
        }
      }
      return row;
    }),
  );
}

async function act(holdId, action) {
  const question =
    action === "release"
      ? `Release hold ${holdId}? The OTP goes to the SMSC now.`
      : `Cancel hold ${holdId}? The OTP is never delivered.`;
  if (!window.confirm(question)) return;
  const answer = await api("POST", `/v1/holds/${encodeURIComponent(holdId)}/${action}`, {
    reason: "operator console",
  });
  const message = document.getElementById("holds-message");
  message.textContent =
    answer.status === 200
      ? `Hold ${holdId}: ${answer.data.state}`
      : `Hold ${holdId}: ${answer.data?.message ?? answer.status}`;
  await showHolds();
}

async function lookUp(event) {
  event.preventDefault();
  const msisdn = document.getElementById("msisdn").value.trim();
  const answer = await api("POST", "/v1/subscribers/risk", { msisdn });
  document.getElementById("risk-answer").textContent = JSON.stringify(answer.data, null, 2);
}

async function showPolicy() {
  const answer = await api("GET", "/v1/policy");
  document.getElementById("policy-name").textContent = answer.data.name;
  document.getElementById("policy-source").textContent = answer.data.source;
  fill(
    document.getElementById("policy-rules"),
    answer.data.rules.map((rule, index) => {
      const row = document.createElement("tr");
      cell(row, index + 1);
      cell(row, rule.name + (rule.shadow ? " (shadow)" : ""));
      cell(row, rule.action);
      cell(row, JSON.stringify(rule.when));
      return row;
    }),
  );
}

async function explainDecision(event) {
  event.preventDefault();
  const answer = await api("POST", "/v1/policy/explain", {
    msisdn: document.getElementById("explain-msisdn").value.trim(),
    text: document.getElementById("explain-text").value,
  });
  const data = answer.data ?? {};
  const shown = answer.status === 200
    ? { decision: data.decision, rule: data.rule, reasons: data.reasons, is_otp: data.is_otp,
        otp_score: data.otp_score, otp_reasons: data.otp_reasons }
    : data;
  document.getElementById("explain-answer").textContent = JSON.stringify(shown, null, 2);
}

async function reloadPolicy() {
  if (!window.confirm("Reload the policy from its file?")) return;
  const answer = await api("POST", "/v1/policy/reload");
  document.getElementById("explain-answer").textContent =
    answer.status === 200 ? `Reloaded: ${answer.data.policy}` : answer.data?.message ?? "";
  await showPolicy();
}

async function showTenants() {
  const answer = await api("GET", "/v1/tenants");
  fill(
    document.getElementById("tenant-rows"),
    answer.data.tenants.map((tenant) => {
      const row = document.createElement("tr");
      row.dataset.tenant = tenant.name;
      cell(row, tenant.name);
      cell(row, tenant.accounts.join(", "));
      cell(row, tenant.camara ? (tenant.camara_all_subscribers ? "yes, all subscribers" : "yes") : "no");
      cell(row, tenant.active_keys);
      cell(row, `${tenant.webhooks} (${tenant.webhooks_disabled} disabled)`);
      cell(row, "").appendChild(button("Endpoints", "endpoints", () => showEndpoints(tenant.name)));
      return row;
    }),
  );
  if (shownTenant) await showEndpoints(shownTenant);
}

async function showEndpoints(tenant) {
  shownTenant = tenant;
  const answer = await api("GET", `/v1/tenants/${encodeURIComponent(tenant)}/webhooks`);
  document.getElementById("endpoints-title").textContent = `Webhook endpoints of ${tenant}`;
  const failed = [];
  fill(
    document.getElementById("endpoint-rows"),
    answer.data.webhooks.map((hook) => {
      const row = document.createElement("tr");
      cell(row, hook.id);
      cell(row, hook.url);
      cell(row, hook.enabled ? "yes" : `no (${hook.disabled_reason ?? ""})`);
      cell(row, Object.entries(hook.recent_states).map(([s, n]) => `${s} ${n}`).join(", "));
      for (const delivery of hook.deliveries) {
        if (delivery.state !== "delivered" && delivery.state !== "pending") {
          failed.push({ hook, delivery });
        }
      }
      return row;
    }),
  );
  fill(
    document.getElementById("failed-rows"),
    failed.map(({ hook, delivery }) => {
      const row = document.createElement("tr");
      row.dataset.delivery = String(delivery.id);
      cell(row, delivery.id);
      cell(row, hook.id);
      cell(row, delivery.type);
      cell(row, delivery.state);
      cell(row, delivery.attempts.at(-1)?.status ?? "–");
      cell(row, "").appendChild(button("Send again", "replay", () => replay(tenant, delivery.id)));
      return row;
    }),
  );
}

async function replay(tenant, deliveryId) {
  if (!window.confirm(`Send delivery ${deliveryId} to ${tenant} again?`)) return;
  const answer = await api(
    "POST",
    `/v1/tenants/${encodeURIComponent(tenant)}/deliveries/${deliveryId}/replay`,
  );
  document.getElementById("tenants-message").textContent =
    answer.status === 202 ? `Delivery ${deliveryId}: queued again` : answer.data?.message ?? "";
  await showEndpoints(tenant);
}

// A line chart drawn as SVG: no library, a polyline a series, the largest value labelled.
function chart(container, times, series) {
  const width = 600;
  const height = 140;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  svg.setAttribute("role", "img");
  const values = series.flatMap((s) => s.values.filter((v) => v !== null));
  const top = Math.max(1e-9, ...values);
  const title = document.createElementNS(SVG, "title");
  title.textContent = series.map((s) => `${s.name}: max ${Math.max(0, ...s.values.filter((v) => v !== null))}`).join("; ");
  svg.appendChild(title);
  series.forEach((s, index) => {
    const points = s.values
      .map((v, i) => (v === null ? null : `${(i / Math.max(1, times.length - 1)) * width},${height - (v / top) * height}`))
      .filter((p) => p !== null)
      .join(" ");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", COLOURS[index % COLOURS.length]);
    line.setAttribute("stroke-width", "2");
    line.dataset.series = s.name;
    svg.appendChild(line);
  });
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", String(height + 16));
  label.textContent = `max ${top.toPrecision(3)} · ${series.map((s) => s.name).join(", ")}`;
  svg.appendChild(label);
  container.replaceChildren(svg);
}

async function showCharts() {
  const answer = await api("GET", "/v1/history");
  const data = answer.data;
  chart(document.getElementById("chart-submits"), data.at, [{ name: "submits/s", values: data.submits_per_s }]);
  chart(document.getElementById("chart-holds"), data.at, [{ name: "holds/s", values: data.holds_per_s }]);
  chart(
    document.getElementById("chart-rules"),
    data.at,
    Object.entries(data.decisions_per_s).map(([rule, values]) => ({ name: rule, values })),
  );
  chart(document.getElementById("chart-webhooks"), data.at, [{ name: "latency s", values: data.webhook_latency_s }]);
}

// -- navigation ---------------------------------------------------------------------------

function show(page) {
  clearInterval(refresher);
  for (const name of ["login", ...PAGES]) {
    document.getElementById(name).hidden = name !== page;
  }
  for (const name of PAGES) {
    const link = document.getElementById(`nav-${name}`);
    if (name === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.getElementById("nav").hidden = page === "login";
  if (page === "policy") showPolicy().catch(() => {});
  const refresh = { overview: showOverview, holds: showHolds, tenants: showTenants, charts: showCharts }[page];
  if (refresh) {
    refresh().catch(() => {});
    refresher = setInterval(() => refresh().catch(() => {}), 2000);
  }
}

function route() {
  if (!key()) return show("login");
  const page = location.hash.slice(1);
  show(PAGES.includes(page) ? page : "overview");
}

function logout(reason) {
  sessionStorage.removeItem(KEY);
  document.getElementById("login-error").textContent = reason ?? "";
  show("login");
}

async function login(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value);
  document.getElementById("key").value = "";
  try {
    await api("GET", "/v1/status");
  } catch {
    return;
  }
  document.getElementById("login-error").textContent = "";
  route();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", login);
  document.getElementById("risk-form").addEventListener("submit", lookUp);
  document.getElementById("explain-form").addEventListener("submit", explainDecision);
  document.getElementById("policy-reload").addEventListener("click", reloadPolicy);
  document.getElementById("logout").addEventListener("click", () => logout());
  document.getElementById("hold-state").addEventListener("change", () => showHolds());
  window.addEventListener("hashchange", route);
  route();
});
