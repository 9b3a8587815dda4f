/**
 * DNS: look-ups in the forms mail and network gear speak (Team Cymru MHR style hashes, DNSBL
 * style addresses, domains), and the RPZ zone of listed domains for the ISP's resolvers, as a
 * file and by zone transfer.
 */
export { type DnsDeps, type DnsServer, startDns } from "./server.ts";
export { type RpzFileOptions, type RpzFileReport, writeRpzFile } from "./rpz_file.ts";
