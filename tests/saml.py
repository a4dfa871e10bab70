"""A SAML 2.0 identity provider for the tests: its own key and certificate, its metadata,
and responses really signed with xmlsec (the XML Security Library, through python-xmlsec).

``SamlIdP.respond(authn_request, email=...)`` answers an AuthnRequest that allauth sent to
the IdP (read from the redirect's SAMLRequest), with an assertion signed by the IdP's key;
keyword arguments bend it (``audience``, ``not_on_or_after``, ``authn_context``, ...), so a
test shows that python3-saml's real verification refuses it.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zlib
from urllib.parse import parse_qs, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
EMAIL_ATTRIBUTE = "urn:oid:0.9.2342.19200300.100.1.3"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_and_cert(common_name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


class SamlIdP:
    def __init__(self, entity_id="https://idp.loopback.test/saml", name="Loopback SAML"):
        self.entity_id = entity_id
        self.sso_url = "https://idp.loopback.test/sso"
        self.key_pem, self.cert_pem = _key_and_cert(name)

    @property
    def cert_base64(self) -> str:
        lines = self.cert_pem.decode().strip().splitlines()
        return "".join(lines[1:-1])

    def metadata(self) -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" entityID="{self.entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{self.cert_base64}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="{self.sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    @staticmethod
    def read_request(location: str) -> dict:
        """The AuthnRequest (its ID, ACS URL, issuer) carried by allauth's redirect."""
        query = parse_qs(urlsplit(location).query)
        xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
        root = etree.fromstring(xml)
        return {
            "id": root.get("ID"),
            "acs": root.get("AssertionConsumerServiceURL"),
            "issuer": root.findtext("saml:Issuer", namespaces=NS),
            "relay_state": query.get("RelayState", [""])[0],
        }

    def respond(
        self,
        request: dict,
        *,
        email: str,
        audience: str | None = None,
        not_on_or_after: dt.datetime | None = None,
        authn_context: str = PASSWORD_CONTEXT,
        attributes: dict | None = None,
        sign_with: bytes | None = None,
    ) -> str:
        """A base64 SAMLResponse to ``request``, its assertion signed by this IdP."""
        now = dt.datetime.now(dt.UTC)
        until = not_on_or_after or now + dt.timedelta(minutes=5)
        issued = min(now, until - dt.timedelta(minutes=10))
        audience = audience or request["issuer"]
        attrs = {EMAIL_ATTRIBUTE: email, **(attributes or {})}
        attribute_xml = "".join(
            f'<saml:Attribute Name="{k}"><saml:AttributeValue>{v}</saml:AttributeValue>'
            "</saml:Attribute>"
            for k, v in attrs.items()
        )
        assertion_id = f"_a{uuid.uuid4().hex}"
        xml = f"""<samlp:Response xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}"
    ID="_r{uuid.uuid4().hex}" Version="2.0" IssueInstant="{_stamp(issued)}"
    Destination="{request["acs"]}" InResponseTo="{request["id"]}">
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <samlp:Status>
    <samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>
  </samlp:Status>
  <saml:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="{_stamp(issued)}">
    <saml:Issuer>{self.entity_id}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        >{email}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{_stamp(until)}"
            Recipient="{request["acs"]}" InResponseTo="{request["id"]}"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{_stamp(issued)}" NotOnOrAfter="{_stamp(until)}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{_stamp(issued)}" SessionIndex="_s{uuid.uuid4().hex}">
      <saml:AuthnContext><saml:AuthnContextClassRef>{authn_context}</saml:AuthnContextClassRef></saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>{attribute_xml}</saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""
        root = etree.fromstring(xml.encode())
        assertion = root.find("saml:Assertion", namespaces=NS)
        self._sign(assertion, sign_with or self.key_pem)
        return base64.b64encode(etree.tostring(root)).decode()

    def _sign(self, element, key_pem: bytes) -> None:
        """An enveloped RSA-SHA256 signature over ``element``, placed after its Issuer."""
        signature = xmlsec.template.create(
            element, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256
        )
        element.insert(1, signature)
        reference = xmlsec.template.add_reference(
            signature, xmlsec.constants.TransformSha256, uri=f"#{element.get('ID')}"
        )
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
        key_info = xmlsec.template.ensure_key_info(signature)
        xmlsec.template.add_x509_data(key_info)
        xmlsec.tree.add_ids(element, ["ID"])
        context = xmlsec.SignatureContext()
        key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
        key.load_cert_from_memory(self.cert_pem, xmlsec.constants.KeyDataFormatPem)
        context.key = key
        context.sign(signature)
