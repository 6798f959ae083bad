//! Engagement classes. Every kill falls in exactly one, seen from the killer's side:
//! sides are the killer or victim plus their alive teammates within 300 units.

/// How the two sides compared when the kill happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngagementClass {
    /// 1v1: nobody else near either player.
    Solo,
    /// The killer's side had more players ("assisted" kill, "ganked" death).
    Outnumbering,
    /// Equal sides larger than one (2v2, 3v3 …).
    Even,
    /// The killer's side had fewer players ("outgunned" kill).
    Outnumbered,
}

impl EngagementClass {
    /// Classifies from the ally counts each side had nearby.
    pub fn classify(killer_allies: u16, victim_allies: u16) -> Self {
        use std::cmp::Ordering::*;
        match (killer_allies.cmp(&victim_allies), killer_allies) {
            (Equal, 0) => EngagementClass::Solo,
            (Equal, _) => EngagementClass::Even,
            (Greater, _) => EngagementClass::Outnumbering,
            (Less, _) => EngagementClass::Outnumbered,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EngagementClass::Solo => "solo",
            EngagementClass::Outnumbering => "outnumbering",
            EngagementClass::Even => "even",
            EngagementClass::Outnumbered => "outnumbered",
        }
    }
}

/// The `NvM` label: killer side size v victim side size.
pub fn engagement_type(killer_allies: u16, victim_allies: u16) -> String {
    format!(
        "{}v{}",
        u32::from(killer_allies) + 1,
        u32::from(victim_allies) + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn classes_match_their_names() {
        assert_eq!(EngagementClass::classify(0, 0), EngagementClass::Solo);
        assert_eq!(
            EngagementClass::classify(1, 0),
            EngagementClass::Outnumbering
        );
        assert_eq!(
            EngagementClass::classify(0, 2),
            EngagementClass::Outnumbered
        );
        assert_eq!(EngagementClass::classify(2, 2), EngagementClass::Even);
        assert_eq!(engagement_type(0, 2), "1v3");
    }

    proptest! {
        // Exactly one class, and the class agrees with the side sizes.
        #[test]
        fn every_pair_of_counts_has_one_consistent_class(a in 0u16..64, b in 0u16..64) {
            let class = EngagementClass::classify(a, b);
            let expected = if a == b && a == 0 { EngagementClass::Solo }
                else if a == b { EngagementClass::Even }
                else if a > b { EngagementClass::Outnumbering }
                else { EngagementClass::Outnumbered };
            prop_assert_eq!(class, expected);
        }
    }
}
