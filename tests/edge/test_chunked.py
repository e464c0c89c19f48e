"""aws-chunked bodies: AWS's documented examples, botocore's own encoder, real PutObject requests,
chunk signatures chained from the request signature, and malformed input."""

from __future__ import annotations

import calendar
import dataclasses
import io
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.edge.chunked import (
    DecodedBody,
    IncompleteBody,
    MalformedTrailerError,
    UnsignedChunkDecoder,
    decode_aws_chunked,
    decode_request_body,
    is_aws_chunked,
    strip_aws_chunked,
    unwrap_request,
)
from overcast.edge.detect import detect
from overcast.edge.sigv4 import ChunkSigner, Credential, authenticate, parse_authorization, verify
from tests.edge.wire import (
    AK,
    SECRET,
    capture,
    make_client,
    signed_chunked_body,
    signing_key,
    to_http,
)

DOC_TIME = float(calendar.timegm((2013, 5, 24, 0, 0, 0)))
DOC_DATE = "20130524T000000Z"
DOC_SCOPE = "20130524/us-east-1/s3/aws4_request"
DOC_KEY = signing_key(SECRET, "20130524", "us-east-1", "s3")
A64K, A1K = b"a" * 65536, b"a" * 1024

# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html, "Example: PUT Object"
DOC_SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
DOC_BODY = (
    b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"
    + A64K
    + b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
    + b"\r\n"
    + A1K
    + b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
    + b"\r\n\r\n"
)
# https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
DOC_TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
DOC_TRAILER_BODY = (
    b"10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n"
    + A64K
    + b"\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7"
    + b"\r\n"
    + A1K
    + b"\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
    + b"\r\nx-amz-checksum-crc32c:sOO8/Q==\r\n"
    + b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
    + b"\r\n\r\n"
)


def _doc_request() -> HttpRequest:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={AK}/{DOC_SCOPE},SignedHeaders=content-encoding;"
        "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        f"x-amz-storage-class,Signature={DOC_SEED}"
    )
    hl = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", DOC_DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("authorization", auth),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ]
    return HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", dict(hl), DOC_BODY, hl)


def _doc_signer(seed: str) -> ChunkSigner:
    return ChunkSigner(DOC_KEY, DOC_DATE, DOC_SCOPE, seed, AK)


def test_aws_example_seed_and_chunk_signatures() -> None:
    req = _doc_request()
    assert len(req.body) == 66824
    info = parse_authorization(req, "s3")
    assert info is not None
    signer = verify(req, info, SECRET, DOC_TIME, service="s3")
    assert signer is not None and signer.previous == DOC_SEED
    decode_request_body(req, signer)
    assert req.body == A64K + A1K
    assert signer.previous.startswith("b6c6ea8a")  # the chain reached the final chunk
    assert "content-encoding" not in req.headers
    assert req.headers["content-length"] == "66560"


def test_the_tests_own_chunk_signer_reproduces_the_aws_example() -> None:
    body = signed_chunked_body([A64K, A1K], key=DOC_KEY, amz_date=DOC_DATE, scope=DOC_SCOPE,
                               seed=DOC_SEED)  # fmt: skip
    assert body == DOC_BODY
    body = signed_chunked_body([A64K, A1K], key=DOC_KEY, amz_date=DOC_DATE, scope=DOC_SCOPE,
                               seed=DOC_TRAILER_SEED,
                               trailers=[("x-amz-checksum-crc32c", "sOO8/Q==")])  # fmt: skip
    assert body == DOC_TRAILER_BODY


def test_aws_trailer_example() -> None:
    out = decode_aws_chunked(
        DOC_TRAILER_BODY,
        content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        decoded_length=66560,
        verifier=_doc_signer(DOC_TRAILER_SEED),
    )
    assert out == DecodedBody(A64K + A1K, {"x-amz-checksum-crc32c": "sOO8/Q=="})


@pytest.mark.parametrize(
    ("body", "seed", "sha"),
    [
        (DOC_BODY.replace(b"aaaa\r\n400", b"aaab\r\n400"), DOC_SEED,
         "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        (DOC_BODY, DOC_TRAILER_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        (DOC_TRAILER_BODY.replace(b"sOO8/Q==", b"AAAAAA=="), DOC_TRAILER_SEED,
         "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
        (DOC_TRAILER_BODY.replace(b"chunk-signature=1c13", b"chunk-signature=0c13"),
         DOC_TRAILER_SEED, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
    ],
)  # fmt: skip
def test_tampered_signed_chunks_are_rejected(body: bytes, seed: str, sha: str) -> None:
    with pytest.raises(ServiceError) as err:
        decode_aws_chunked(body, content_sha256=sha, verifier=_doc_signer(seed))
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)


def test_signed_chunks_decode_without_a_verifier() -> None:
    out = decode_aws_chunked(DOC_BODY, content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert out.data == A64K + A1K and out.trailers == {}


# -- botocore's encoder (STREAMING-UNSIGNED-PAYLOAD-TRAILER) -------------------------------------


@pytest.mark.parametrize("size", [0, 1, 100, 8191, 8192, 8193, 65536 * 3 + 7])
@pytest.mark.parametrize("checksum", [None, Crc32Checksum, Sha256Checksum])
def test_botocore_aws_chunked_wrapper(size: int, checksum: type | None) -> None:
    data = bytes(i % 251 for i in range(size))
    name = "x-amz-checksum-crc32" if checksum is Crc32Checksum else "x-amz-checksum-sha256"
    wrapper = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=checksum, checksum_name=name,
                                chunk_size=8192)  # fmt: skip
    body = wrapper.read()
    out = decode_aws_chunked(body, content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                             decoded_length=size)  # fmt: skip
    assert out.data == data
    if checksum is None:
        assert out.trailers == {}
    else:
        expected = checksum()
        expected.update(data)
        assert out.trailers == {name: expected.b64digest()}


def test_real_put_object_over_https() -> None:
    s3 = make_client("s3", endpoint="https://127.0.0.1:4566")
    payload = b"hello world" * 1000
    req = capture(s3, "put_object", Bucket="b", Key="k", Body=io.BytesIO(payload),
                  ContentEncoding="gzip", ChecksumAlgorithm="CRC32")  # fmt: skip
    assert req.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert req.headers["content-encoding"] == "gzip,aws-chunked"
    assert is_aws_chunked(req)
    d = detect(req)
    known = Credential(AK, SECRET, "000000000000", "arn:aws:iam::000000000000:root")
    result = authenticate(req, d, lambda k: known, strict=True, now=time.time())
    assert result.verified and result.chunk_signer is None  # unsigned chunks
    original = dataclasses.replace(req, headers=dict(req.headers))
    copy = unwrap_request(req, result.chunk_signer)
    assert original.headers == req.headers  # unwrap_request leaves its input alone
    decode_request_body(req, result.chunk_signer)
    for r in (req, copy):
        assert r.body == payload
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["content-length"] == str(len(payload))
        crc = Crc32Checksum()
        crc.update(payload)
        assert r.headers["x-amz-checksum-crc32"] == crc.b64digest()
        assert ("x-amz-checksum-crc32", crc.b64digest()) in r.header_list
        assert [v for k, v in r.header_list if k == "content-encoding"] == ["gzip"]


def test_plain_requests_are_left_alone() -> None:
    req = capture(make_client("s3"), "put_object", Bucket="b", Key="k", Body=b"plain")
    before = dataclasses.replace(req, headers=dict(req.headers), header_list=list(req.header_list))
    assert not is_aws_chunked(req)
    decode_request_body(req)
    assert req == before


# -- signed streaming uploads end to end -------------------------------------------------------


def _signed_streaming_request(
    chunks: list[bytes], trailers: list[tuple[str, str]] | None
) -> HttpRequest:
    sha = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailers else "")
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": sha,
        "X-Amz-Decoded-Content-Length": str(sum(map(len, chunks))),
    }
    if trailers:
        headers["X-Amz-Trailer"] = ",".join(k for k, _ in trailers)
    aws = AWSRequest(method="PUT", url="http://127.0.0.1:4566/bucket/big.bin", headers=headers)
    # botocore signs the seed: its generic SigV4 signer takes X-Amz-Content-SHA256 as the hash
    # (the S3 signer would replace it; the path here needs no S3-specific encoding).
    SigV4Auth(Credentials(AK, SECRET), "s3", "eu-west-1").add_auth(aws)
    seed = aws.headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = aws.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/eu-west-1/s3/aws4_request"
    key = signing_key(SECRET, amz_date[:8], "eu-west-1", "s3")
    aws.data = signed_chunked_body(chunks, key=key, amz_date=amz_date, scope=scope, seed=seed,
                                   trailers=trailers)  # fmt: skip
    return to_http(aws.prepare())


@pytest.mark.parametrize(
    "trailers", [None, [("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-meta-extra", "v")]]
)
def test_signed_streaming_upload_end_to_end(trailers: list[tuple[str, str]] | None) -> None:
    chunks = [b"x" * 8192, b"y" * 10000, b"z" * 5]
    req = _signed_streaming_request(chunks, trailers)
    known = Credential(AK, SECRET, "000000000000", "arn:aws:iam::000000000000:root")
    result = authenticate(req, detect(req), lambda k: known, strict=True, now=time.time())
    assert result.chunk_signer is not None
    tampered = dataclasses.replace(req, body=req.body.replace(b"yyyy", b"yyyY", 1))
    decode_request_body(req, result.chunk_signer)
    assert req.body == b"".join(chunks)
    for k, v in trailers or []:
        assert req.headers[k] == v
    # A tampered chunk fails the chain; an unknown key on loopback is decoded unchecked.
    signer = authenticate(
        tampered, detect(tampered), lambda k: known, True, time.time()
    ).chunk_signer
    with pytest.raises(ServiceError) as err:
        decode_request_body(dataclasses.replace(tampered), signer)
    assert err.value.code == "SignatureDoesNotMatch"
    loose = authenticate(tampered, detect(tampered), lambda k: None, False, time.time())
    assert loose.chunk_signer is None
    decode_request_body(tampered, loose.chunk_signer)
    assert tampered.body.count(b"Y") == 1


# -- malformed bodies ------------------------------------------------------------------------------

UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


@pytest.mark.parametrize(
    ("body", "sha", "length", "code"),
    [
        (b"", UNSIGNED, None, "IncompleteBody"),
        (b"5\r\nhel", UNSIGNED, None, "IncompleteBody"),
        (b"5\r\nhello\r\n", UNSIGNED, None, "IncompleteBody"),
        (b"5\r\nhelloXX0\r\n\r\n", UNSIGNED, None, "IncompleteBody"),
        (b"zz\r\nhello\r\n0\r\n\r\n", UNSIGNED, None, "IncompleteBody"),
        (b";chunk-signature=ab\r\n\r\n", UNSIGNED, None, "IncompleteBody"),
        (b"5\r\nhello\r\n0\r\n\r\n", UNSIGNED, 6, "IncompleteBody"),
        (b"5\r\nhello\r\n0\r\nno-colon-here\r\n\r\n", UNSIGNED, 5, "MalformedTrailerError"),
        (b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AA==\r\n\r\ngarbage", UNSIGNED, 5,
         "MalformedTrailerError"),
        (b"5;chunk-signature=00\r\nhello\r\n5;chunk-signature=00\r\nworld\r\n"
         b"0;chunk-signature=00\r\n\r\n", SIGNED, None, "InvalidChunkSizeError"),
    ],
)  # fmt: skip
def test_malformed_bodies(body: bytes, sha: str, length: int | None, code: str) -> None:
    with pytest.raises(ServiceError) as err:
        decode_aws_chunked(body, content_sha256=sha, decoded_length=length)
    assert err.value.code == code
    assert err.value.status in (400, 403)


def test_declared_trailer_must_arrive() -> None:
    hl = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-content-sha256", UNSIGNED),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-decoded-content-length", "5"),
    ]
    req = HttpRequest("PUT", "/b/k", "", dict(hl), b"5\r\nhello\r\n0\r\n\r\n", hl)
    with pytest.raises(ServiceError) as err:
        decode_request_body(req)
    assert err.value.code == "MalformedTrailerError"
    req.headers["x-amz-decoded-content-length"] = "five"
    with pytest.raises(ServiceError) as err:
        decode_request_body(req)
    assert err.value.code == "InvalidArgument"


def test_signed_trailer_needs_its_signature() -> None:
    body = DOC_TRAILER_BODY.split(b"x-amz-trailer-signature")[0] + b"\r\n"
    with pytest.raises(ServiceError) as err:
        decode_aws_chunked(body, content_sha256="STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                           verifier=_doc_signer(DOC_TRAILER_SEED))  # fmt: skip
    assert err.value.code == "MalformedTrailerError"


def test_blank_line_before_trailers_is_tolerated() -> None:
    body = b"5\r\nhello\r\n0\r\n\r\nx-amz-checksum-crc32:AA==\r\n\r\n"
    out = decode_aws_chunked(body, content_sha256=UNSIGNED, decoded_length=5)
    assert out == DecodedBody(b"hello", {"x-amz-checksum-crc32": "AA=="})


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (None, None),
        ("", None),
        ("aws-chunked", None),
        ("AWS-Chunked", None),
        ("gzip", "gzip"),
        ("aws-chunked,gzip", "gzip"),
        ("gzip, aws-chunked", "gzip"),
        ("gzip,aws-chunked,br", "gzip, br"),
    ],
)
def test_strip_aws_chunked(value: str | None, kept: str | None) -> None:
    assert strip_aws_chunked(value) == kept


# -- incremental decoding (large unsigned uploads, decoded while spooled) -----------------------


def _feed_all(decoder: UnsignedChunkDecoder, body: bytes, step: int) -> bytes:
    out = b""
    for i in range(0, len(body), step):
        out += b"".join(bytes(p) for p in decoder.feed(body[i : i + step]))
    return out


@pytest.mark.parametrize("size", [0, 1, 8192, 65536 * 3 + 7])
@pytest.mark.parametrize("step", [1, 2, 7, 8192, 100_000])
@pytest.mark.parametrize("checksum", [None, Crc32Checksum])
def test_incremental_decoder_matches_the_whole_body_decoder(
    size: int, step: int, checksum: type | None
) -> None:
    data = bytes(i % 251 for i in range(size))
    wrapper = AwsChunkedWrapper(io.BytesIO(data), checksum_cls=checksum,
                                checksum_name="x-amz-checksum-crc32", chunk_size=8192)  # fmt: skip
    body = wrapper.read()
    whole = decode_aws_chunked(body, content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    decoder = UnsignedChunkDecoder()
    assert _feed_all(decoder, body, step) == data == whole.data
    assert decoder.total == size
    assert decoder.finish() == whole.trailers


@pytest.mark.parametrize(
    "body, error",
    [
        (b"5\r\nhello\r\n", IncompleteBody),  # no final chunk
        (b"5\r\nhel", IncompleteBody),  # cut inside a chunk
        (b"zz\r\nhello\r\n0\r\n\r\n", IncompleteBody),  # not a size
        (b"5\r\nhelloXX0\r\n\r\n", IncompleteBody),  # no CRLF after the data
        (b"5\nhello\r\n0\r\n\r\n", IncompleteBody),  # a bare LF ends the size line
        (b"5\r\nhello\r\n0\r\nnot a trailer\r\n\r\n", MalformedTrailerError),
        (b"1" * 5000, IncompleteBody),  # a size line that never ends
    ],
)
def test_incremental_decoder_refuses_what_the_whole_body_decoder_refuses(
    body: bytes, error: type
) -> None:
    with pytest.raises(error):
        decode_aws_chunked(body, content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    decoder = UnsignedChunkDecoder()
    with pytest.raises(error):
        _feed_all(decoder, body, 3)
        decoder.finish()
