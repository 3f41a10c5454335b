"""The SMTP sender's connection options against real aiosmtpd servers: STARTTLS, implicit TLS, login."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning.mail.smtp import PermanentFailure, SMTPSender, TemporaryFailure
from tests.support.servers import Inbox, free_port, parts


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and the file a client trusts it by."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


class Accounts:
    """An aiosmtpd authenticator with one account; remembers the logins it saw."""

    def __init__(self, login: str, password: str) -> None:
        self.login, self.password, self.seen = login, password, []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.seen.append(auth_data.login.decode())
        ok = (auth_data.login.decode(), auth_data.password.decode()) == (self.login, self.password)
        return AuthResult(success=ok, handled=False)


def _serve(**kwargs):
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return inbox, port, controller


def _message(to="ann@example.edu") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "lms@acme.test", to, "Hello"
    message.set_content("plain body")
    message.add_alternative("<p>html body</p>", subtype="html")
    return message


def test_starttls_is_used_when_offered_and_the_login_comes_from_the_url(certificate):
    cert_file, context = certificate
    accounts = Accounts("mailer", "p@ss:word")
    inbox, port, controller = _serve(
        tls_context=context, require_starttls=True, authenticator=accounts, auth_require_tls=True
    )
    try:
        with SMTPSender(f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{port}?cafile={cert_file}") as sender:
            sender.send(_message())
    finally:
        controller.stop()
    assert accounts.seen == ["mailer"]
    assert [p.strip() for p in parts(inbox.received[0])] == ["plain body", "<p>html body</p>"]


def test_smtps_uses_implicit_tls(certificate):
    cert_file, context = certificate
    inbox, port, controller = _serve(ssl_context=context)
    try:
        with SMTPSender(f"smtps://127.0.0.1:{port}?cafile={cert_file}") as sender:
            sender.send(_message())
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.received] == ["ann@example.edu"]


def test_a_server_certificate_that_is_not_trusted_is_a_temporary_failure(certificate):
    _cert_file, context = certificate
    inbox, port, controller = _serve(tls_context=context)
    try:
        with pytest.raises(TemporaryFailure) as failure, SMTPSender(f"smtp://127.0.0.1:{port}") as sender:
            sender.send(_message())
    finally:
        controller.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in failure.value.reason and inbox.received == []


def test_starttls_required_by_the_url_but_not_offered_is_refused():
    inbox, port, controller = _serve()
    try:
        with pytest.raises(TemporaryFailure) as failure, SMTPSender(f"smtp://127.0.0.1:{port}?starttls=1") as sender:
            sender.send(_message())
    finally:
        controller.stop()
    assert "STARTTLS" in failure.value.reason and inbox.received == []


def test_a_wrong_password_is_reported_without_the_password(certificate):
    cert_file, context = certificate
    inbox, port, controller = _serve(
        tls_context=context, authenticator=Accounts("mailer", "right"), auth_require_tls=True
    )
    try:
        with (
            pytest.raises(TemporaryFailure) as failure,
            SMTPSender(f"smtp://mailer:wrong-secret@127.0.0.1:{port}?cafile={cert_file}") as sender,
        ):
            sender.send(_message())
    finally:
        controller.stop()
    assert failure.value.reason.startswith("SMTP login failed: 535") and "wrong-secret" not in failure.value.reason


def test_a_refused_recipient_is_a_permanent_failure():
    inbox, port, controller = _serve()
    inbox.replies = ["554 5.7.1 Message rejected"]
    try:
        with pytest.raises(PermanentFailure) as failure, SMTPSender(f"smtp://127.0.0.1:{port}") as sender:
            sender.send(_message())
    finally:
        controller.stop()
    assert failure.value.reason == "554 5.7.1 Message rejected"


def test_an_smtp_url_of_another_scheme_is_refused():
    from provisioning.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        SMTPSender("http://mail.example.edu")
    assert "SMTP_URL" in refused.value.details
