"""Strategies for user files, and the check every parser must pass.

Files are drawn three ways: lines assembled from tokens that matter to the parsers
(digits of other scripts, signs, separators, headers, IUPAC letters, '>' ...), raw
bytes, and either one gzipped, whole or truncated. `check_parser` runs a parser on one
such file and accepts only success or the package's own format error naming the file.
"""

import gzip
import os
import tempfile

from hypothesis import strategies as st

from genereg_jax.files import InputFormatError

TOKENS = ["chr1", "chr2", "1", "0", "10", "-1", "120", "99999999999", "²", "٣", "1_0",
          " 5", "+", "-", ".", "", "NA", "nan", "1e3", "0.5", "#", "##", "track", "A",
          "ACGT", "acgtn", "N", ">", ">chr1", "\r", "é", "\x00", "\ufeff", '"', ";", "=",
          "gene_id", 'gene_id "g";', 'transcript_id "t";', "exon", "transcript"]


def lines(fields: st.SearchStrategy, separators=("\t", " ", "  ")) -> st.SearchStrategy:
  """Text of 0-12 lines, each a few fields joined by a separator."""
  line = st.builds(lambda parts, sep: sep.join(parts),
                   st.lists(fields, max_size=12), st.sampled_from(separators))
  return st.builds(lambda rows, end: "\n".join(rows) + end,
                   st.lists(line, max_size=12), st.sampled_from(["\n", "", "\r\n"]))


def token_text(extra=()) -> st.SearchStrategy:
  return lines(st.one_of(st.sampled_from(TOKENS + list(extra)), st.text(max_size=6)))


def as_bytes(text: st.SearchStrategy) -> st.SearchStrategy:
  """Encoded text, raw bytes, or either gzipped (whole or cut short)."""
  plain = st.one_of(text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                    st.binary(max_size=300))
  zipped = st.builds(lambda data, cut: gzip.compress(data)[:cut] if cut else
                     gzip.compress(data), plain, st.sampled_from([None, 5, 12, 20, 40]))
  return st.one_of(plain, plain, zipped)


def check_parser(data: bytes, parse, suffix: str = ".txt", prefix: bytes = b""):
  """Writes ``prefix + data`` to a fresh file and runs ``parse(path)``.

  Returns the result, or the `InputFormatError` raised (which must name the file);
  any other exception fails the test.
  """
  with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "input" + suffix)
    with open(path, "wb") as f:
      f.write(prefix + data)
    try:
      return parse(path)
    except InputFormatError as error:
      assert error.path == path, f"{type(error).__name__} names {error.path}: {error}"
      assert str(error).startswith(path), str(error)
      return error
