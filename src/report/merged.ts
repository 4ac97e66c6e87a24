/** What `report` merges a store into: one binary's profile and where its data came from. */

import type { Profile } from "../coverage/profile.ts";
import type { Timeline } from "../coverage/timeline.ts";
import type { BinaryFacts } from "./info_summary.ts";
import type { SourceFacts } from "./source_facts.ts";

/** A merged binary: its profile and where its data came from. */
export interface MergedBinary {
  hash: string;
  /** The group it was merged in (`--group-by`: src/report/group_by.ts); unset without one. */
  group?: string;
  /** Binary names the prefixes of this hash carry. */
  names: Set<string>;
  profile: Profile;
  prefixes: number;
  processes: number;
  nodes: Set<string>;
  pods: Set<string>;
  /** When each unit was first seen covered, merged over the prefixes' timelines (none stored:
   * undefined). */
  timeline?: Timeline;
  /** With `sourceFacts`: the source repository and commit info.json gave, by sourceKey. */
  sources?: Map<string, SourceFacts>;
  /** What the prefixes' paths and info.json say (with `ReadOptions.facts`). */
  facts?: BinaryFacts;
}

export interface PrefixError {
  prefix: string;
  error: string;
}
