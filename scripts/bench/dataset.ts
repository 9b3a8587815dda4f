/**
 * The bench's reputation feed: N realistic records as NDJSON, mostly files by
 * SHA-256 (some also by MD5), a few per cent URLs, domains, IPs and certificates.
 * It also keeps an evenly spread sample of what it wrote, so look-ups can hit.
 */
import { Random, weighted } from "./random.ts";

/** An object the node knows after the import, as a client would look it up. */
export interface KnownObject {
  type: "file" | "url" | "domain" | "ip" | "cert";
  value: string;
}

/** What {@link writeDataset} wrote. */
export interface Dataset {
  records: number;
  /** Look-up keys the records make: one per hash, one per other object. */
  keys: number;
  bytes: number;
  byType: Record<KnownObject["type"], number>;
  /** Up to `sampleSize` known objects, taken evenly across the file. */
  known: KnownObject[];
  generateMillis: number;
}

const TYPE_MIX = [
  [0.94, "file"],
  [0.025, "url"],
  [0.02, "domain"],
  [0.01, "ip"],
  [0.005, "cert"],
] as const;

const FILE_VERDICTS = [
  [0.5, "malicious"],
  [0.25, "clean"],
  [0.12, "suspicious"],
  [0.1, "adware"],
  [0.03, "phishing"],
] as const;
const WEB_VERDICTS = [[0.45, "phishing"], [0.45, "malicious"], [0.1, "suspicious"]] as const;
const IP_VERDICTS = [[0.7, "malicious"], [0.3, "suspicious"]] as const;
const CERT_VERDICTS = [[0.5, "clean"], [0.5, "malicious"]] as const;

const MALWARE = [
  "HEUR:Trojan.Win32.Generic",
  "Trojan.Win32.Agent",
  "Trojan-Downloader.Win32.Upatre",
  "Trojan-Ransom.Win32.Lockbit",
  "Trojan-Spy.Win32.AgentTesla",
  "Trojan-PSW.Win32.RedLine",
  "Backdoor.Win32.Remcos",
  "Worm.Win32.Autorun",
  "Exploit.MSOffice.CVE-2017-11882",
  "HEUR:Trojan.AndroidOS.Boogr",
];
const ADWARE = ["not-a-virus:AdWare.Win32.Agent", "not-a-virus:HEUR:AdWare.Win32.MultiPlug"];
const PHISHING = ["HEUR:Trojan.Script.Phishing", "Phishing.HTML.Generic"];
const SUSPICIOUS = ["HEUR:Trojan.Win32.Packed", "PDM:Trojan.Win32.Generic"];
const CATEGORIES = [["ransomware"], ["banker"], ["stealer", "spyware"], ["botnet"], ["miner"]];
const TLDS = ["com", "net", "org", "info", "xyz", "top", "ru", "io"];
const NOW = 1_780_000_000; // a fixed "now", so the file is the same on every run
const YEAR = 31_536_000;

function threatFor(random: Random, verdict: string): string | undefined {
  switch (verdict) {
    case "malicious":
      return random.pick(MALWARE);
    case "adware":
      return random.pick(ADWARE);
    case "phishing":
      return random.pick(PHISHING);
    case "suspicious":
      return random.pick(SUSPICIOUS);
  }
  return undefined;
}

/**
 * Unique per record number `i` (an odd multiplier is a bijection), spread over IPv4. A /24
 * takes its 24 bits from the product modulo 2^24, itself a bijection, so networks stay
 * unique up to 16.7M records (the top 24 bits of the 32-bit product repeat far sooner, and
 * an import refuses one network listed twice with different verdicts).
 */
function ipv4(i: number, network: boolean): string {
  const v = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  if (network) {
    const n = v & 0xffffff;
    return `${n >>> 16}.${(n >>> 8) & 0xff}.${n & 0xff}.0/24`;
  }
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

interface MadeRecord {
  line: string;
  type: KnownObject["type"];
  keys: number;
}

function makeRecord(
  i: number,
  random: Random,
  sample: boolean,
  known: KnownObject[],
): MadeRecord {
  const type = weighted(random, TYPE_MIX);
  const fields: Record<string, unknown> = { type };
  let verdict: string;
  let keys = 1;
  switch (type) {
    case "file": {
      fields.sha256 = random.hex(32);
      if (random.next() < 0.3) {
        fields.md5 = random.hex(16);
        keys = 2;
      }
      verdict = weighted(random, FILE_VERDICTS);
      if (sample) {
        const useMd5 = fields.md5 !== undefined && random.next() < 0.3;
        known.push({ type, value: (useMd5 ? fields.md5 : fields.sha256) as string });
      }
      break;
    }
    case "url": {
      const host = `cdn${i.toString(36)}.${random.hex(4)}.${random.pick(TLDS)}`;
      fields.value = `http://${host}/${random.hex(4)}/${random.pick(["login.php", "inv.exe", ""])}`;
      verdict = weighted(random, WEB_VERDICTS);
      if (sample) known.push({ type, value: fields.value as string });
      break;
    }
    case "domain":
      fields.value = `${random.hex(4)}-${i.toString(36)}.${random.pick(TLDS)}`;
      verdict = weighted(random, WEB_VERDICTS);
      if (sample) known.push({ type, value: fields.value as string });
      break;
    case "ip": {
      const network = random.next() < 0.1;
      fields.value = ipv4(i, network);
      verdict = weighted(random, IP_VERDICTS);
      if (sample) known.push({ type, value: (fields.value as string).replace(/0\/24$/, "77") });
      break;
    }
    case "cert":
      fields.value = random.hex(20);
      verdict = weighted(random, CERT_VERDICTS);
      if (sample) known.push({ type, value: fields.value as string });
      break;
  }
  fields.verdict = verdict;
  const threat = threatFor(random, verdict);
  if (threat !== undefined) fields.threat = threat;
  if (verdict === "malicious" && random.next() < 0.1) fields.categories = random.pick(CATEGORIES);
  if (random.next() < 0.2) fields.ttl = 86_400;
  const firstSeen = NOW - random.below(2 * YEAR);
  fields.firstSeen = firstSeen;
  fields.lastSeen = firstSeen + random.below(YEAR / 2);
  return { line: JSON.stringify(fields), type, keys };
}

// Known objects kept: many more than the node's cache of recent answers holds (16,384), so the
// 100%-listed run measures listed look-ups beyond that cache, as its target asks.
const SAMPLE_SIZE = 250_000;

/** Writes `records` records to `path` as NDJSON and returns what it wrote. */
export async function writeDataset(
  path: string,
  records: number,
  options: { seed?: number; sampleSize?: number } = {},
): Promise<Dataset> {
  const started = performance.now();
  const random = new Random(options.seed ?? 20261128);
  const sampleSize = options.sampleSize ?? SAMPLE_SIZE;
  const stride = Math.max(1, Math.floor(records / sampleSize));
  const known: KnownObject[] = [];
  const byType = { file: 0, url: 0, domain: 0, ip: 0, cert: 0 };
  const encoder = new TextEncoder();
  let keys = 0;
  let bytes = 0;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let lines: string[] = [];
    for (let i = 0; i < records; i++) {
      const made = makeRecord(i, random, i % stride === 0 && known.length < sampleSize, known);
      byType[made.type]++;
      keys += made.keys;
      lines.push(made.line);
      if (lines.length === 8192 || i === records - 1) {
        const chunk = encoder.encode(lines.join("\n") + "\n");
        bytes += chunk.byteLength;
        await writeAll(file, chunk);
        lines = [];
      }
    }
  } finally {
    file.close();
  }
  return {
    records,
    keys,
    bytes,
    byType,
    known,
    generateMillis: Math.round(performance.now() - started),
  };
}

/** Writes all of `bytes`, however many calls it takes. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}
