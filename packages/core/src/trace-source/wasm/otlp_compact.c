// OTLP JSON in the compact layout that OTLP's JSON marshaller writes (Jaeger v2's /api/v3, the Collector, Tempo
// v2) → the API's span JSON, in WebAssembly: in JavaScript each byte read and written cost ~2.5 ns on our
// machines, and a 5,000-span answer has 3.5 MB of them. Anything outside the compact layout declines (-1) and the
// caller parses and normalises the answer as objects (normalize.ts) instead, so this file only has to be right on
// what it accepts; test/unit/trace-source/otlp-transcode.test.ts compares it with normalize.ts on generated
// answers.
//
// Build: scripts/build-otlp-wasm.sh (clang --target=wasm32, no libc) → otlp-compact-wasm.ts.
//
// Memory (all offsets given by the caller): the answer, followed by one 0 byte that stops every scan; the output;
// the records of the kept spans (7 int32 each: segment start and end, then the id's, start's and end's offsets
// relative to the segment and the two times' lengths); two float64 per kept span (the start as whole seconds and
// the nanoseconds within: exact, and ordered like the decimal); and the 32 hex digits of the trace asked for.

typedef unsigned char u8;

static const u8 *in;
static int p;
static u8 *out;
static int o;
static int cap;
static int overflow;
static int *rec;
static double *starts;
static int nrec;
static int reccap;
static const u8 *target;
static int esc;
static int svc_s;
static int svc_e;

#define NEED(x) \
  do {          \
    if (!(x)) return 0; \
  } while (0)
#define L(s) (const u8 *)(s), (int)(sizeof(s) - 1)

static int lit(const u8 *s, int len) {
  for (int i = 0; i < len; i++)
    if (in[p + i] != s[i]) return 0;
  p += len;
  return 1;
}

/** The bytes at `at` are `s`. */
static int same(int at, const u8 *s, int len) {
  for (int i = 0; i < len; i++)
    if (in[at + i] != s[i]) return 0;
  return 1;
}

static int emit(const u8 *s, int len) {
  if (o + len > cap) {
    overflow = 1;
    return 0;
  }
  __builtin_memcpy(out + o, s, len);
  o += len;
  return 1;
}
#define EMIT_LIT(s) NEED(emit(L(s)))
#define EMIT_RANGE(s, n) NEED(emit(in + (s), (n)))

static int is_digit(u8 c) { return c >= '0' && c <= '9'; }
static int is_lower_hex(u8 c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
static int is_hex(u8 c) { return is_lower_hex(c) || (c >= 'A' && c <= 'F'); }
static int is_ws(u8 c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/** A string token at p (validated: escapes, no control characters); sets esc when it had an escape. */
static int str_tok(void) {
  if (in[p] != '"') return 0;
  int q = p + 1;
  esc = 0;
  for (;;) {
    u8 c = in[q];
    if (c == '"') break;
    if (c < 0x20) return 0;  // also the 0 byte after the answer
    if (c == '\\') {
      esc = 1;
      u8 e = in[q + 1];
      if (e == 'u') {
        for (int i = 2; i < 6; i++)
          if (!is_hex(in[q + i])) return 0;
        q += 6;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
        q += 2;
      else
        return 0;
    } else
      q++;
  }
  p = q + 1;
  return 1;
}

static int digits(void) {
  int s = p;
  while (is_digit(in[p])) p++;
  return p > s;
}

/** A JSON number token at p. */
static int num(void) {
  if (in[p] == '-') p++;
  if (in[p] == '0')
    p++;
  else
    NEED(digits());
  if (in[p] == '.') {
    p++;
    NEED(digits());
  }
  if (in[p] == 'e' || in[p] == 'E') {
    p++;
    if (in[p] == '+' || in[p] == '-') p++;
    NEED(digits());
  }
  return 1;
}

static void ws(void) {
  while (is_ws(in[p])) p++;
}

/** Any JSON value at p, validated and skipped (whitespace allowed, nesting bounded). */
static int skip(int depth) {
  if (depth > 64) return 0;
  ws();
  u8 c = in[p];
  if (c == '"') return str_tok();
  if (c == '{') {
    p++;
    ws();
    if (in[p] == '}') {
      p++;
      return 1;
    }
    for (;;) {
      ws();
      NEED(str_tok());
      ws();
      NEED(lit(L(":")));
      NEED(skip(depth + 1));
      ws();
      if (in[p] == ',') {
        p++;
        continue;
      }
      return lit(L("}"));
    }
  }
  if (c == '[') {
    p++;
    ws();
    if (in[p] == ']') {
      p++;
      return 1;
    }
    for (;;) {
      NEED(skip(depth + 1));
      ws();
      if (in[p] == ',') {
        p++;
        continue;
      }
      return lit(L("]"));
    }
  }
  if (c == 't') return lit(L("true"));
  if (c == 'f') return lit(L("false"));
  if (c == 'n') return lit(L("null"));
  if (c == '-' || is_digit(c)) return num();
  return 0;
}

/** `n` lowercase hex digits and the closing quote. */
static int hexq(int n) {
  for (int i = 0; i < n; i++)
    if (!is_lower_hex(in[p + i])) return 0;
  if (in[p + n] != '"') return 0;
  p += n + 1;
  return 1;
}

/** 1–20 digits and the closing quote; *end is where the digits end. */
static int digq(int *end) {
  int s = p;
  while (is_digit(in[p])) p++;
  if (p == s || p - s > 20 || in[p] != '"') return 0;
  *end = p;
  p++;
  return 1;
}

static int zeros(int s, int n) {
  for (int i = 0; i < n; i++)
    if (in[s + i] != '0') return 0;
  return 1;
}

/** Without leading zeros, as normalize.ts's nanos() gives a time. */
static int canonical(int s, int e) {
  while (e - s > 1 && in[s] == '0') s++;
  return s;
}

/** The decimal [as, ae) < [bs, be), both canonical. */
static int less(int as, int ae, int bs, int be) {
  if (ae - as != be - bs) return ae - as < be - bs;
  for (int i = 0; i < ae - as; i++)
    if (in[as + i] != in[bs + i]) return in[as + i] < in[bs + i];
  return 0;
}

/**
 * An intValue's digits (p after the opening quote): up to 15 digits is always a safe integer, written as the
 * number (anyValue() in normalize.ts makes it a number). Not "-0" (→ 0) and no leading zeros ("007" → 7).
 */
static int small_int(void) {
  int s = p;
  if (in[p] == '-') p++;
  int ds = p;
  while (is_digit(in[p])) p++;
  int n = p - ds;
  if (in[p] != '"' || n == 0 || n > 15) return 0;
  if (in[ds] == '0' && (n > 1 || ds > s)) return 0;
  EMIT_RANGE(s, p - s);
  p++;
  return 1;
}

/**
 * A doubleValue token, copied as it is: JSON.parse of it gives the same double as JSON.stringify of that double
 * would. Declined: a negative zero (stringify writes 0) and exponents of 3+ digits (could overflow to Infinity,
 * which stringify writes as null).
 */
static int plain_double(void) {
  int s = p;
  int nonzero = 0;
  if (in[p] == '-') p++;
  while (is_digit(in[p])) nonzero |= in[p++] != '0';
  if (p == s || (in[s] == '-' && p == s + 1)) return 0;
  if (in[p] == '.') {
    p++;
    int f = p;
    while (is_digit(in[p])) nonzero |= in[p++] != '0';
    if (p == f) return 0;
  }
  if (in[p] == 'e' || in[p] == 'E') {
    p++;
    if (in[p] == '+' || in[p] == '-') p++;
    int x = p;
    while (is_digit(in[p])) p++;
    if (p == x || p - x > 2) return 0;
  }
  if (in[s] == '-' && !nonzero) return 0;
  if (p - s > 32) return 0;
  // The integer part must not have leading zeros (JSON): "01" is not a number.
  int i = in[s] == '-' ? s + 1 : s;
  if (in[i] == '0' && is_digit(in[i + 1])) return 0;
  EMIT_RANGE(s, p - s);
  return 1;
}

static int kvs(int depth);

/**
 * One AnyValue at p, written as plain JSON like normalize.ts's anyValue(): a scalar, an array of values, or an
 * object of key/value pairs; past depth 8, null.
 */
static int any_value(int depth) {
  if (depth > 8) {
    NEED(skip(0));
    EMIT_LIT("null");
    return 1;
  }
  if (lit(L("{}"))) {
    EMIT_LIT("null");
    return 1;
  }
  NEED(lit(L("{\"")));
  if (lit(L("stringValue\":")) || lit(L("bytesValue\":"))) {
    int vs = p;
    NEED(str_tok());
    EMIT_RANGE(vs, p - vs);
  } else if (lit(L("intValue\":\""))) {
    NEED(small_int());
  } else if (lit(L("boolValue\":true"))) {
    EMIT_LIT("true");
  } else if (lit(L("boolValue\":false"))) {
    EMIT_LIT("false");
  } else if (lit(L("doubleValue\":"))) {
    NEED(plain_double());
  } else if (lit(L("arrayValue\":{"))) {
    EMIT_LIT("[");
    if (lit(L("\"values\":[")) && !lit(L("]"))) {
      for (int first = 1;; first = 0) {
        if (!first) EMIT_LIT(",");
        NEED(any_value(depth + 1));
        if (lit(L(","))) continue;
        NEED(lit(L("]")));
        break;
      }
    }
    NEED(lit(L("}")));
    EMIT_LIT("]");
  } else if (lit(L("kvlistValue\":{"))) {
    EMIT_LIT("{");
    if (lit(L("\"values\":["))) NEED(kvs(depth + 1));
    NEED(lit(L("}")));
    EMIT_LIT("}");
  } else
    return 0;
  return lit(L("}"));
}

/**
 * Key/value pairs (p after the list's "["), written as an object's members, their values at `depth`; the list's
 * "]" consumed.
 */
static int kvs(int depth) {
  if (lit(L("]"))) return 1;
  for (int first = 1;; first = 0) {
    NEED(lit(L("{\"key\":")));
    int ks = p;
    NEED(str_tok());
    if (!first) EMIT_LIT(",");
    EMIT_RANGE(ks, p - ks);
    EMIT_LIT(":");
    NEED(lit(L(",\"value\":")));
    NEED(any_value(depth));
    NEED(lit(L("}")));
    if (lit(L(","))) continue;
    return lit(L("]"));
  }
}

/** A resource: `{}` or its attributes; sets the service name's string token (svc_s < 0: none). */
static int resource(void) {
  svc_s = -1;
  if (lit(L("{}"))) return 1;
  NEED(lit(L("{\"attributes\":[")));
  if (!lit(L("]"))) {
    for (;;) {
      NEED(lit(L("{\"key\":")));
      int ks = p;
      NEED(str_tok());
      if (esc) return 0;  // an escaped key may be service.name in disguise
      int service = p - ks == 14 && same(ks, L("\"service.name\""));
      NEED(lit(L(",\"value\":")));
      if (lit(L("{\"stringValue\":"))) {
        int vs = p;
        NEED(str_tok());
        if (service) {
          svc_s = vs;
          svc_e = p;
        }
        NEED(lit(L("}")));
      } else {
        if (service) return 0;  // a service name that is not a string: the object path
        NEED(skip(0));
      }
      NEED(lit(L("}")));
      if (lit(L(","))) continue;
      NEED(lit(L("]")));
      break;
    }
  }
  if (lit(L(",\"droppedAttributesCount\":"))) NEED(num());
  return lit(L("}"));
}

/** Events (p after the list's "["), written as the API's events; the list's "]" consumed. */
static int events(void) {
  if (lit(L("]"))) return 1;
  for (int first = 1;; first = 0) {
    NEED(lit(L("{\"timeUnixNano\":\"")));
    int ts = p, te;
    NEED(digq(&te));
    int ns = -1, ne = -1;
    if (lit(L(",\"name\":"))) {
      ns = p;
      NEED(str_tok());
      ne = p;
    }
    if (!first) EMIT_LIT(",");
    EMIT_LIT("{\"attributes\":{");
    if (lit(L(",\"attributes\":["))) NEED(kvs(0));
    EMIT_LIT("},\"name\":");
    if (ns < 0)
      EMIT_LIT("\"\"");
    else
      EMIT_RANGE(ns, ne - ns);
    EMIT_LIT(",\"time_unix_ns\":\"");
    ts = canonical(ts, te);
    EMIT_RANGE(ts, te - ts);
    EMIT_LIT("\"}");
    if (lit(L(",\"droppedAttributesCount\":"))) NEED(num());
    NEED(lit(L("}")));
    if (lit(L(","))) continue;
    return lit(L("]"));
  }
}

static const char *const KINDS[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
static const int KIND_LENGTHS[] = {11, 8, 6, 6, 8, 8};

/** One span; a kept one is written and recorded, one of another trace is dropped. */
static int span(void) {
  NEED(lit(L("{\"traceId\":\"")));
  int ts = p;
  NEED(hexq(32));
  NEED(lit(L(",\"spanId\":\"")));
  int ss = p;
  NEED(hexq(16));
  if (lit(L(",\"traceState\":"))) NEED(str_tok());
  int ps = -1;
  if (lit(L(",\"parentSpanId\":\""))) {
    ps = p;
    NEED(hexq(16));
  }
  if (lit(L(",\"flags\":"))) NEED(num());
  int ns = -1, ne = -1;
  if (lit(L(",\"name\":"))) {
    ns = p;
    NEED(str_tok());
    ne = p;
  }
  int kind = 0;
  if (lit(L(",\"kind\":"))) {
    u8 d = in[p];
    u8 next = in[p + 1];
    if (!is_digit(d) || (next != ',' && next != '}')) return 0;
    kind = d - '0' > 5 ? 0 : d - '0';
    p++;
  }
  NEED(lit(L(",\"startTimeUnixNano\":\"")));
  int s_s = p, s_e;
  NEED(digq(&s_e));
  NEED(lit(L(",\"endTimeUnixNano\":\"")));
  int e_s = p, e_e;
  NEED(digq(&e_e));
  int seg = o;
  EMIT_LIT("{\"attributes\":{");
  if (lit(L(",\"attributes\":["))) NEED(kvs(0));
  EMIT_LIT("},\"events\":[");
  if (lit(L(",\"droppedAttributesCount\":"))) NEED(num());
  if (lit(L(",\"events\":["))) NEED(events());
  EMIT_LIT("]");
  if (lit(L(",\"droppedEventsCount\":"))) NEED(num());
  if (lit(L(",\"links\":"))) NEED(skip(0));
  if (lit(L(",\"droppedLinksCount\":"))) NEED(num());
  int code = 0, ms = -1, me = -1;
  if (lit(L(",\"status\":"))) {
    NEED(lit(L("{")));
    if (lit(L("\"message\":"))) {
      ms = p;
      NEED(str_tok());
      me = p;
      if (!lit(L(","))) {
        NEED(lit(L("}")));
        goto status_done;
      }
    }
    if (lit(L("\"code\":"))) {
      u8 d = in[p];
      if (!is_digit(d) || in[p + 1] != '}') return 0;
      code = d - '0';
      p++;
    } else if (ms >= 0)
      return 0;
    NEED(lit(L("}")));
  }
status_done:
  NEED(lit(L("}")));
  if (zeros(ss, 16)) return 0;  // no span id: the object path drops it
  for (int i = 0; i < 32; i++)
    if (in[ts + i] != target[i]) {
      o = seg;  // another trace's span
      return 1;
    }
  if (nrec >= reccap) {
    overflow = 1;
    return 0;
  }
  EMIT_LIT(",\"trace_id\":\"");
  NEED(emit(target, 32));
  EMIT_LIT("\",\"span_id\":\"");
  int id_at = o - seg;
  EMIT_RANGE(ss, 16);
  if (ps >= 0 && !zeros(ps, 16)) {
    EMIT_LIT("\",\"parent_span_id\":\"");
    EMIT_RANGE(ps, 16);
    EMIT_LIT("\"");
  } else
    EMIT_LIT("\",\"parent_span_id\":null");
  EMIT_LIT(",\"name\":");
  if (ns < 0 || ne - ns == 2)
    EMIT_LIT("\"(unnamed)\"");
  else
    EMIT_RANGE(ns, ne - ns);
  EMIT_LIT(",\"service\":");
  if (svc_s < 0 || svc_e - svc_s == 2)
    EMIT_LIT("\"unknown\"");
  else
    EMIT_RANGE(svc_s, svc_e - svc_s);
  EMIT_LIT(",\"kind\":\"");
  NEED(emit((const u8 *)KINDS[kind], KIND_LENGTHS[kind]));
  s_s = canonical(s_s, s_e);
  e_s = canonical(e_s, e_e);
  if (less(e_s, e_e, s_s, s_e)) {
    e_s = s_s;
    e_e = s_e;
  }
  EMIT_LIT("\",\"start_unix_ns\":\"");
  int start_at = o - seg;
  EMIT_RANGE(s_s, s_e - s_s);
  EMIT_LIT("\",\"end_unix_ns\":\"");
  int end_at = o - seg;
  EMIT_RANGE(e_s, e_e - e_s);
  EMIT_LIT("\",\"status\":{\"code\":\"");
  if (code == 2)
    EMIT_LIT("error\"");
  else if (code == 1)
    EMIT_LIT("ok\"");
  else
    EMIT_LIT("unset\"");
  if (ms >= 0 && me - ms > 2) {
    EMIT_LIT(",\"message\":");
    EMIT_RANGE(ms, me - ms);
  }
  EMIT_LIT("}}");
  int *r = rec + nrec * 7;
  r[0] = seg;
  r[1] = o;
  r[2] = id_at;
  r[3] = start_at;
  r[4] = s_e - s_s;
  r[5] = end_at;
  r[6] = e_e - e_s;
  double hi = 0, lo = 0;
  int cut = s_e - s_s > 9 ? s_e - 9 : s_s;
  for (int i = s_s; i < cut; i++) hi = hi * 10 + (in[i] - '0');
  for (int i = cut; i < s_e; i++) lo = lo * 10 + (in[i] - '0');
  starts[nrec * 2] = hi;
  starts[nrec * 2 + 1] = lo;
  nrec++;
  return 1;
}

/** The items of a list (p after its "["), each read by `item`; the list's "]" consumed. */
static int items(int (*item)(void)) {
  if (lit(L("]"))) return 1;
  for (;;) {
    NEED(item());
    if (!lit(L(","))) return lit(L("]"));
  }
}

/** One scope: `{"scope":…,"spans":[…]}` (scope optional, schemaUrl after). */
static int scope(void) {
  NEED(lit(L("{")));
  if (lit(L("\"scope\":"))) {
    NEED(skip(0));
    NEED(lit(L(",")));
  }
  NEED(lit(L("\"spans\":[")));
  NEED(items(span));
  if (lit(L(",\"schemaUrl\":"))) NEED(str_tok());
  return lit(L("}"));
}

static int resource_spans(void) {
  NEED(lit(L("{\"resource\":")));
  NEED(resource());
  NEED(lit(L(",\"scopeSpans\":[")));
  NEED(items(scope));
  if (lit(L(",\"schemaUrl\":"))) NEED(str_tok());
  return lit(L("}"));
}

/**
 * The number of spans kept (their records written), -1: not the compact layout (the caller reads the answer
 * another way), -2: the output or the records did not fit.
 */
__attribute__((export_name("transcode"))) int transcode(int in_at, int in_len, int out_at, int out_cap,
                                                         int rec_at, int starts_at, int rec_cap, int target_at) {
  in = (const u8 *)in_at;
  p = 0;
  out = (u8 *)out_at;
  o = 0;
  cap = out_cap;
  overflow = 0;
  rec = (int *)rec_at;
  starts = (double *)starts_at;
  nrec = 0;
  reccap = rec_cap;
  target = (const u8 *)target_at;
  // Jaeger v3's envelope, Tempo v2's, or none.
  int envelope = 0;
  if (lit(L("{\"result\":{\"resourceSpans\":[")) || lit(L("{\"trace\":{\"resourceSpans\":[")))
    envelope = 2;
  else if (lit(L("{\"resourceSpans\":[")))
    envelope = 1;
  int ok = envelope != 0 && items(resource_spans);
  if (ok) ok = envelope == 2 ? lit(L("}}")) : lit(L("}"));
  if (ok) {
    ws();
    ok = p == in_len;
  }
  if (overflow) return -2;
  return ok ? nrec : -1;
}
