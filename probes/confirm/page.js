// The confirmation page (probes/confirm/web.py). Every value from the runner is put on the
// page as text (textContent), never as HTML: brand names and handles come from outside.
"use strict";

const POLL_MS = 5000;

function span(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  return h ? h + " h " + String(m % 60).padStart(2, "0") + " min" : m + " min";
}

function set(root, selector, text) {
  root.querySelector(selector).textContent = text;
}

async function decide(item, decision, card) {
  const buttons = card.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  let message;
  try {
    const r = await fetch("decide", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ probe_id: item.probe_id, decision: decision }),
    });
    message = (await r.json()).message;
  } catch (e) {
    message = "the runner did not answer: " + e;
  }
  set(card, ".answer", message);
  refresh();
}

function card(item) {
  const node = document.getElementById("inquiry").content.firstElementChild.cloneNode(true);
  node.dataset.probe = item.probe_id;
  set(node, ".to", "@" + item.handle);
  set(node, ".brand", "(" + item.brand_name + ")");
  set(node, ".account", "@" + item.account + " on " + item.channel);
  set(node, ".country", item.country_name);
  set(node, ".local", item.local_now + " (planned for " + item.scheduled_local + ")");
  set(node, ".left", span(item.seconds_left));
  set(node, ".probe", item.probe_id);
  set(node, ".text", item.text);
  if (item.seconds_left < 900) node.classList.add("urgent");
  node.querySelector(".send").addEventListener("click", () => decide(item, "confirm", node));
  node.querySelector(".skip").addEventListener("click", () => decide(item, "skip", node));
  return node;
}

function row(item) {
  const tr = document.createElement("tr");
  for (const text of [item.scheduled_local, span(item.seconds_until), "@" + item.handle + " (" + item.brand_name + ")",
                      item.country_name, item.channel, item.probe_id]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  return tr;
}

function show(state) {
  const status = document.getElementById("status");
  status.classList.toggle("down", !state.running);
  status.textContent = state.running
    ? "Runner time " + state.now + " (UTC). " + state.waiting.length + " waiting for you."
    : "The runner has stopped. Start it again and open the address it prints.";
  const due = document.getElementById("due");
  due.replaceChildren(...state.waiting.map(card));
  if (!state.waiting.length) {
    const p = document.createElement("p");
    p.textContent = "Nothing is due now.";
    due.appendChild(p);
  }
  document.querySelector("#next tbody").replaceChildren(...state.upcoming.map(row));
  document.getElementById("log").replaceChildren(...state.log.map((entry) => {
    const li = document.createElement("li");
    li.textContent = entry.at + " " + entry.text;
    return li;
  }));
}

async function refresh() {
  try {
    const r = await fetch("state", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    show(await r.json());
  } catch (e) {
    const status = document.getElementById("status");
    status.classList.add("down");
    status.textContent = "The runner is not answering (" + e.message + "). If it was restarted, open the new address it printed.";
  }
}

refresh();
setInterval(refresh, POLL_MS);
