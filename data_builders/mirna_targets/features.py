"""The 20 miRNA–target-site pair features read by MiRTDL (Cheng et al., TCBB 2015).

MiRTDL computed 20 features per (miRNA, candidate site) pair from TarBase interactions:
seed-match type and pairing, thermodynamics (duplex free energy), site accessibility,
AU content and conservation. The paper's exact list could not be retrieved here, so
this is our reconstruction of those groups, in the order the CNN reads them
(`FEATURE_NAMES`):

* seed match (TargetScan's site types; Bartel 2009): 8mer, 7mer-m8, 7mer-A1, 6mer,
  offset 6mer (0/1 each); Watson–Crick matches, G:U wobbles and mismatches over miRNA
  nt 2-8;
* pairing: 3'-supplementary matches (nt 13-16), matches 3' of the seed (nt 9 to the
  end), total matches, total wobbles, longest run of consecutive matches;
* thermodynamics (ViennaRNA, ``viennarna`` on PyPI): the miRNA–site duplex free energy
  (``RNA.duplexfold``, RNAduplex), the seed duplex (miRNA nt 1-8 with the site's 3'
  end), the site's own fold energy (``RNA.fold``: a stably folded site is less
  accessible);
* composition: AU fraction of the site, AU fraction of the site's 3' end (opposite
  miRNA nt 1-8 and the 10 nt beyond them; local AU content), miRNA GC fraction;
* conservation of the site when the input gives it (0 otherwise).

Not reproduced: features needing the whole 3'UTR (site position, distance to the UTR
ends, number of sites per UTR) and the paper's conservation source.

Alignment convention: ``site`` is the target mRNA 5'->3' whose LAST base faces miRNA
nt 1 (TargetScan's t1), so reading the site backwards pairs it with the miRNA 5'->3'
without gaps. DNA letters are read as RNA.
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES = (
    "site_8mer", "site_7mer_m8", "site_7mer_a1", "site_6mer", "site_offset_6mer",
    "seed_matches", "seed_wobbles", "seed_mismatches",
    "supplementary_13_16", "matches_3prime", "total_matches", "total_wobbles",
    "longest_match_run",
    "duplex_energy", "seed_duplex_energy", "site_fold_energy",
    "site_au", "local_au", "mirna_gc", "conservation")
_COMPLEMENT = {"A": "U", "C": "G", "G": "C", "U": "A"}


def _rna(sequence: str) -> str:
  return sequence.upper().replace("T", "U")


def _vienna():
  try:
    import RNA  # ViennaRNA's Python bindings (pip install viennarna).
  except ImportError as e:
    raise ImportError("MiRTDL's free-energy features need ViennaRNA: pip install viennarna"
                      ) from e
  return RNA


def pairing(mirna: str, site: str) -> np.ndarray:
  """Per miRNA position: 2 Watson–Crick, 1 G:U wobble, 0 mismatch or no site base."""
  mirna, reverse = _rna(mirna), _rna(site)[::-1]
  out = np.zeros(len(mirna), np.int8)
  for i, base in enumerate(mirna):
    if i < len(reverse):
      target = reverse[i]
      out[i] = 2 if _COMPLEMENT.get(base) == target else 1 if {base, target} == {"G", "U"} else 0
  return out


def seed_type(mirna: str, site: str) -> str:
  """TargetScan site type: ``8mer``, ``7mer-m8``, ``7mer-A1``, ``6mer``, ``offset-6mer``
  or ``none``."""
  p = pairing(mirna, site) == 2
  t1_a = _rna(site)[-1:] == "A"
  if p[1:8].all():
    return "8mer" if t1_a else "7mer-m8"
  if p[1:7].all():
    return "7mer-A1" if t1_a else "6mer"
  if p[2:8].all():
    return "offset-6mer"
  return "none"


def _au(sequence: str) -> float:
  return sum(b in "AU" for b in sequence) / max(len(sequence), 1)


def pair_features(mirna: str, site: str, conservation: float | None = None) -> np.ndarray:
  """``float32[20]`` (`FEATURE_NAMES`) of one miRNA–site pair."""
  RNA = _vienna()
  mirna, site = _rna(mirna), _rna(site)
  p = pairing(mirna, site)
  kind = seed_type(mirna, site)
  seed = p[1:8]
  runs, run = 0, 0
  for value in p:
    run = run + 1 if value == 2 else 0
    runs = max(runs, run)
  seed_site = site[-8:]
  values = [
      kind == "8mer", kind == "7mer-m8", kind == "7mer-A1", kind == "6mer",
      kind == "offset-6mer",
      (seed == 2).sum(), (seed == 1).sum(), (seed == 0).sum(),
      (p[12:16] == 2).sum(), (p[8:] == 2).sum(), (p == 2).sum(), (p == 1).sum(), runs,
      RNA.duplexfold(mirna, site).energy, RNA.duplexfold(mirna[:8], seed_site).energy,
      RNA.fold(site)[1],
      _au(site), _au(site[-18:]), 1 - _au(mirna), conservation or 0.0]
  return np.array(values, np.float32)
