// The credit code verification page: checks a code in the browser itself.
// On load it fetches /codes/bundle.json once (the province's signed trust list, signed
// revocation lists, words) and checks the trust list against the province root pinned
// in the page's markup; after that, verifying makes no network request. The code is a COSE_Sign1 in
// a CWT, zlib-compressed and base45-encoded behind "CGV1:" (docs/codes.md); the
// signature is Ed25519, checked with WebCrypto. Everything shown is set as text.
"use strict";
(function () {
  const PREFIX = "CGV1:";
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const ISS = 1, EXP = 4, IAT = 6, CTI = 7, CLAIM = -70017, ALG_EDDSA = -8, SKEW = 300;
  const zh = (document.documentElement.lang || "zh").startsWith("zh");
  const UI = {
    loading: ["正在载入信任列表…", "Loading the trust list…"],
    loaded: ["信任列表已载入，可离线核验：", "Trust list loaded; verification works offline: "],
    keys: ["个密钥", "keys"], lists: ["份撤销列表", "revocation lists"],
    failed: ["信任列表载入失败：", "The trust list could not be loaded: "],
    fields: {
      kind: ["主体类型", "Kind"], name: ["名称", "Name"], identifier: ["统一社会信用代码/证件号", "Credit code / ID"],
      grade: ["信用等级", "Grade"], band: ["档次", "Band"], colour: ["颜色", "Colour"], model: ["评价模型", "Model"],
      issuer: ["签发地区", "Issuing region"], issued_at: ["签发时间", "Issued"], expires_at: ["有效期至", "Valid until"],
      code_id: ["码编号", "Code id"],
    },
    // Why a code is refused, by the reason each check gives (never the decoder's own
    // words: the page speaks the reader's language).
    why: {
      prefix: ["信用码以 CGV1: 开头", "a credit code begins with CGV1:"],
      base45: ["内容不是有效的信用码编码，可能输入有误或被改动", "the text is not a valid code encoding: mistyped or altered"],
      inflate: ["内容无法解压，可能输入不完整或被改动", "the content cannot be unpacked: incomplete or altered"],
      structure: ["内容结构不符合信用码格式", "the content is not shaped as a credit code"],
      kid: ["缺少签名密钥编号", "no key id"],
      key: ["密钥编号：", "key id: "],
      signature: ["签名不符", "the signature does not verify"],
      claims: ["缺少必要的声明内容", "the code lacks its claims"],
      issuer: ["签发地区与签名密钥不符", "the issuer does not match the signing key"],
      future: ["签发时间晚于当前时间", "issued in the future"],
      unreadable: ["信任列表无法读取", "the trust list cannot be read"],
      network: ["网络或服务器错误", "a network or server error"],
    },
  };
  const pick = (pair) => (pair ? pair[zh ? 0 : 1] : "");
  // A refusal with its reason (a key of UI.why), and an error whose message is already
  // in the reader's words (`said`); any other error's message is the browser's, in
  // English whatever the page's language, so it is never shown.
  const refuse = (why) => { const e = new Error(why); e.why = why; return e; };
  const saying = (pair) => { const e = new Error(pick(pair)); e.said = true; return e; };
  const told = (e, fallback) => (e && e.said ? e.message : pick(fallback));
  let bundle = null;
  const keys = new Map();  // kid -> {issuer, issuer_name, key, trust_until}
  const revoked = new Map();  // issuer -> Set of code ids

  function b64bytes(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

  function b45decode(s) {
    const out = [];
    for (let i = 0; i < s.length; i += 3) {
      const chunk = s.slice(i, i + 3);
      let n = 0, f = 1;
      for (const ch of chunk) {
        const v = B45.indexOf(ch);
        if (v < 0) throw refuse("base45");
        n += v * f; f *= 45;
      }
      if (chunk.length === 3) {
        if (n > 0xffff) throw refuse("base45");
        out.push(n >> 8, n & 0xff);
      } else if (chunk.length === 2) {
        if (n > 0xff) throw refuse("base45");
        out.push(n);
      } else throw refuse("base45");
    }
    return new Uint8Array(out);
  }

  async function inflate(bytes) {
    let buf;
    try {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
      buf = new Uint8Array(await new Response(stream).arrayBuffer());
    } catch (e) {
      throw refuse("inflate");
    }
    if (buf.length > 8192) throw refuse("inflate");
    return buf;
  }

  // A small CBOR decoder (RFC 8949) for what a code holds: integers, byte and text
  // strings, arrays, maps (as Map), tags, true/false/null.
  function cborDecode(bytes) {
    let p = 0;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    function len(info) {
      if (info < 24) return info;
      if (info === 24) return bytes[p++];
      if (info === 25) { const v = dv.getUint16(p); p += 2; return v; }
      if (info === 26) { const v = dv.getUint32(p); p += 4; return v; }
      if (info === 27) { const v = Number(dv.getBigUint64(p)); p += 8; return v; }
      throw new Error("unsupported CBOR length");
    }
    function item(depth) {
      if (depth > 16 || p >= bytes.length) throw new Error("malformed CBOR");
      const b = bytes[p++], major = b >> 5, info = b & 31;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new Error("unsupported CBOR value");
      }
      const n = len(info);
      switch (major) {
        case 0: return n;
        case 1: return -1 - n;
        case 2: { const v = bytes.slice(p, p + n); p += n; if (v.length !== n) throw new Error("short"); return v; }
        case 3: { const v = new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(p, p + n)); p += n; return v; }
        case 4: { const a = []; for (let i = 0; i < n; i++) a.push(item(depth + 1)); return a; }
        case 5: { const m = new Map(); for (let i = 0; i < n; i++) { const k = item(depth + 1); m.set(k, item(depth + 1)); } return m; }
        case 6: return { tag: n, value: item(depth + 1) };
      }
      throw new Error("malformed CBOR");
    }
    const out = item(0);
    if (p !== bytes.length) throw new Error("trailing bytes");
    return out;
  }

  function cborHead(major, n) {
    if (n < 24) return [(major << 5) | n];
    if (n < 256) return [(major << 5) | 24, n];
    if (n < 65536) return [(major << 5) | 25, n >> 8, n & 0xff];
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }
  function sigStructure(protectedBytes, payload) {
    const ctx = new TextEncoder().encode("Signature1");
    const parts = [[0x84], cborHead(3, ctx.length), ctx, cborHead(2, protectedBytes.length), protectedBytes,
      [0x40], cborHead(2, payload.length), payload];
    const total = parts.reduce((a, x) => a + x.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const x of parts) { out.set(x, o); o += x.length; }
    return out;
  }

  async function importKey(b64) {
    return crypto.subtle.importKey("raw", b64bytes(b64), { name: "Ed25519" }, false, ["verify"]);
  }
  const verifySig = (key, sig, data) => crypto.subtle.verify({ name: "Ed25519" }, key, sig, data);

  function cst(epoch) {
    return new Date((epoch + 8 * 3600) * 1000).toISOString().slice(0, 16).replace("T", " ") + (zh ? " 北京时间" : " CST");
  }

  // Now, by the platform's clock: the page carries the server's time when it was served
  // (data-now), moved on by the time the device has counted since. A device whose own
  // clock is wrong does not call a code in force expired, nor the other way round.
  const served = Number((document.getElementById("bundle-state") || { dataset: {} }).dataset.now || NaN);
  const offset = Number.isFinite(served) ? served - Date.now() / 1000 : 0;
  const nowS = () => Date.now() / 1000 + offset;

  // Other regions' keys come only from the province's trust list, whose signature is
  // checked here against the root pinned in the page's own markup (data-root); this
  // region's own keys are pinned there too (data-own-keys). The bundle's plain "keys"
  // are never taken: a tampered or unsigned bundle is refused, not believed.
  async function trustList(doc, root) {
    if (!doc || doc.format !== "creditgov-trust-list/1" || typeof doc.payload !== "string") {
      throw saying(["信任列表缺失或格式不符", "no trust list, or not one"]);
    }
    if (!doc.signature) throw saying(["信任列表未签名", "the trust list is not signed"]);
    const raw = b64bytes(doc.payload);
    const rootKey = await importKey(root);
    if (!(await verifySig(rootKey, b64bytes(doc.signature), raw))) {
      throw saying(["签名与省级根密钥不符", "its signature does not match the province root"]);
    }
    const payload = JSON.parse(new TextDecoder().decode(raw));
    if (!Array.isArray(payload.keys)) throw saying(["信任列表没有密钥", "the trust list names no keys"]);
    return payload.keys;
  }

  async function load() {
    const state = document.getElementById("bundle-state");
    const root = state.dataset.root || "";
    let refused = "";
    try {
      const r = await fetch("/codes/bundle.json", { credentials: "same-origin" });
      if (!r.ok) throw saying(["服务器返回 HTTP " + r.status, "the server answered HTTP " + r.status]);
      bundle = await r.json();
      const now = nowS();
      const add = async (k) => {
        if (k.trust_until !== null && k.trust_until !== undefined && k.trust_until < now) return;
        if (keys.has(k.kid)) return;
        keys.set(k.kid, { issuer: k.issuer, issuer_name: k.issuer_name, key: await importKey(k.public_key) });
      };
      for (const k of JSON.parse(state.dataset.ownKeys || "[]")) await add(k);
      if (root) {
        try {
          for (const k of await trustList(bundle.trust_list, root)) await add(k);
        } catch (e) {
          refused = state.dataset.refused + told(e, UI.why.unreadable);
        }
      }
      let lists = 0;
      for (const doc of bundle.revocations) {
        const k = keys.get(doc.kid);
        if (!k || doc.format !== "creditgov-revocations/1") continue;
        const raw = b64bytes(doc.payload);
        if (!doc.signature || !(await verifySig(k.key, b64bytes(doc.signature), raw))) continue;
        const payload = JSON.parse(new TextDecoder().decode(raw));
        if (payload.issuer !== k.issuer) continue;
        const set = revoked.get(k.issuer) || new Set();
        for (const id of payload.revoked) set.add(id);
        revoked.set(k.issuer, set);
        lists += 1;
      }
      const loaded = pick(UI.loaded) + keys.size + " " + pick(UI.keys) + ", " + lists + " " + pick(UI.lists);
      if (refused) state.dataset.trust = "refused";
      else state.dataset.trust = root ? "verified" : "own-only";
      state.textContent = refused ? refused + " — " + loaded : (root ? loaded : state.dataset.noroot + " " + loaded);
      state.dataset.ready = "1";
    } catch (e) {
      state.textContent = pick(UI.failed) + told(e, UI.why.network);
    }
  }

  function word(kind, code) {
    const table = bundle && bundle.labels[kind];
    return table && table[code] ? pick(table[code]) : (code === null || code === undefined ? "—" : String(code));
  }

  async function verify(text) {
    text = text.trim();
    if (!text.startsWith(PREFIX)) return { status: "invalid", why: pick(UI.why.prefix), reason: "prefix" };
    let cose, header, claims;
    try {
      cose = cborDecode(await inflate(b45decode(text.slice(PREFIX.length))));
      if (cose && cose.tag !== undefined) { if (cose.tag !== 18) throw refuse("structure"); cose = cose.value; }
      if (!Array.isArray(cose) || cose.length !== 4) throw refuse("structure");
      header = cborDecode(cose[0]);
      claims = cborDecode(cose[2]);
      if (!(claims instanceof Map)) throw refuse("structure");
    } catch (e) {
      // The CBOR reader's own faults (malformed, trailing bytes …) are a wrong structure.
      const reason = (e && e.why) || "structure";
      return { status: "invalid", why: pick(UI.why[reason]), reason };
    }
    const kidBytes = header instanceof Map ? header.get(4) : null;
    if (!(kidBytes instanceof Uint8Array)) return { status: "invalid", why: pick(UI.why.kid), reason: "kid" };
    const t = keys.get(hex(kidBytes));
    if (!t) return { status: "unknown_issuer", why: pick(UI.why.key) + hex(kidBytes), reason: "key" };
    if (header.get(1) !== ALG_EDDSA || !(await verifySig(t.key, cose[3], sigStructure(cose[0], cose[2])))) {
      return { status: "invalid", why: pick(UI.why.signature), reason: "signature" };
    }
    const body = claims.get(CLAIM), iat = claims.get(IAT), exp = claims.get(EXP), cti = claims.get(CTI);
    if (!(body instanceof Map) || typeof iat !== "number" || typeof exp !== "number" || !(cti instanceof Uint8Array)) {
      return { status: "invalid", why: pick(UI.why.claims), reason: "claims" };
    }
    if (claims.get(ISS) !== t.issuer) return { status: "invalid", why: pick(UI.why.issuer), reason: "issuer" };
    const states = {
      kind: word("kind", body.get("k")), name: body.get("n"), identifier: body.get("id"), grade: body.get("g") || "—",
      band: word("band", body.get("b")), colour: word("colour", body.get("c")), model: word("model", body.get("m")),
      issuer: t.issuer_name + " (" + t.issuer + ")", issued_at: cst(iat), expires_at: cst(exp), code_id: hex(cti),
    };
    const now = nowS();
    if (iat > now + SKEW) return { status: "invalid", why: pick(UI.why.future), reason: "future", states };
    if (exp <= now) return { status: "expired", states };
    if ((revoked.get(t.issuer) || new Set()).has(hex(cti))) return { status: "revoked", states };
    return { status: "valid", states };
  }

  function show(out) {
    const box = document.getElementById("verify-result");
    box.hidden = false;
    const status = document.getElementById("verify-status");
    status.textContent = word("status", out.status);
    status.dataset.status = out.status;
    const why = document.getElementById("verify-why");
    why.textContent = out.why || "";
    if (out.reason) why.dataset.reason = out.reason; else delete why.dataset.reason;
    const dl = document.getElementById("verify-states");
    dl.replaceChildren();
    if (!out.states) return;
    for (const [key, label] of Object.entries(UI.fields)) {
      const dt = document.createElement("dt");
      dt.textContent = pick(label);
      const dd = document.createElement("dd");
      dd.textContent = String(out.states[key] ?? "—");
      dd.dataset.field = key;
      dl.append(dt, dd);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("bundle-state").textContent = pick(UI.loading);
    const ready = load();
    document.getElementById("verify-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      await ready;
      show(await verify(document.getElementById("code-text").value));
    });
  });
})();
