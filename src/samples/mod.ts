/**
 * Samples that clients send: validated, kept in the quarantine folder with an index, queued for
 * the parent, expired by age and size.
 */
export { QuarantineFolder, quarantineRoot, sampleTooLarge } from "./quarantine.ts";
export {
  CorruptSampleError,
  sampleExtension,
  type SampleListing,
  type SampleMeta,
  SampleStore,
} from "./samples.ts";
