/** The metrics a collector counts, by name and help text. */

export const PULLS = "coverage_collector_pulls_total";
export const PULLS_HELP = "Coverage pulls by result";
export const STORES = "coverage_collector_stores_total";
export const STORES_HELP = "Objects stored by result";
export const BYTES = "coverage_collector_stored_bytes_total";
export const BYTES_HELP = "Bytes of coverage objects stored";
export const PID_MISMATCH = "coverage_collector_counters_pid_mismatch_total";
export const PID_MISMATCH_HELP =
  "Pulls whose counters_filename named another PID than X-Art-Coverage-Pid (stored under the latter)";
export const SKIPPED = "coverage_collector_skipped_unchanged_total";
export const SKIPPED_HELP =
  "Pulls not stored: counters identical to the last stored, or no block covered that it lacked";
export const REFUSED = "coverage_collector_counters_refused_total";
export const REFUSED_HELP = "Counters not stored: they do not fit the server's meta-data, by kind";
export const META_MISMATCH = "coverage_collector_meta_hash_mismatch_total";
export const META_MISMATCH_HELP =
  "Pulls refused because a meta hash a server sent is not the one its meta-data contents give " +
  "(file: meta, the meta-data's own claim; counters, what the counters name)";
