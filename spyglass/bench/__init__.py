"""`spyglass bench`: the hot paths measured against their physical limits, as ratios taken within one run."""
