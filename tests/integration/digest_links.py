#!/usr/bin/python3
"""digest_links.py OUTBOX KXMATCH DB BASE OUT.json - every link of every
digest in OUTBOX, for tests/e2e/digest_links.mjs to follow.

Reads each .eml as a mail client would (MIME, base64, both parts), checks
that the HTML part links exactly what the text part links, and gives each
link what the page it opens must show: the title the mail printed beside
it (a need's name, a partner's name). Each recipient signs in as the
person the message went to: an account linked to the recipient's record
(made here, with the address the message went to, unless the demo made
one), or for a region's liaison digest a liaison officer of that region.
Exits 1, naming the message, on a digest it cannot read that way.
"""
import email
import glob
import html.parser
import json
import re
import subprocess
import sys
from email import policy

outbox, kx, db, base, dest = sys.argv[1:6]
URL = re.compile(re.escape(base) + r'(?:/[^\s"<>）]*)?')
SITE = {base, base + '/'}  # the site itself: text parts name it, HTML parts need not
problems = []


class Hrefs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == 'a':
            self.hrefs.extend(v for k, v in attrs if k == 'href')


def text_links(body):
    """(url, title) per link of the text part, in order: an item's link
    carries the item's first line, a need's page the line 需求：NAME."""
    links = []
    title = None
    for line in body.splitlines():
        s = line.strip()
        m = re.match(r'^\d+\. (.+)$', s)
        if m:
            title = m.group(1).strip()
        elif s.startswith('需求：'):
            title = s[len('需求：'):].strip()
        for u in URL.findall(line):
            item = title if re.match(r'^(详情|需求页面|一键回复)', s) else None
            links.append({'url': u, 'title': item})
    return links


def accounts():
    out = subprocess.run([kx, 'user', 'list', '--db', db, '--json'],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


users = accounts()
by_record = {u.get('record') or u.get('scope'): u['email'] for u in users
             if u['role'] not in ('admin', 'liaison') and not u['disabled']}
liaison_of = {}
for u in users:
    if u['role'] == 'liaison' and not u['disabled']:
        liaison_of.setdefault(u['region'], u['email'])
ROLE = {'expert': 'expert', 'academician': 'expert', 'society': 'society',
        'enterprise': 'enterprise'}

def add_account(to, role, record):
    """An account for the person a message went to, linked to record:
    their address, or when that address already has an account (one
    person may be an enterprise's contact and its 企业科协's; an address
    names one account) the same mailbox with +KIND.ID."""
    local, _, domain = to.addr_spec.partition('@')
    tag = record.replace(':', '.')
    for addr in (to.addr_spec, f'{local}+{tag}@{domain}'):
        r = subprocess.run([kx, 'user', 'add', '--db', db, '--role', role, '--record', record,
                            '--email', addr, '--name', to.display_name or addr],
                           capture_output=True, text=True)
        if r.returncode == 0:
            return addr
        if 'already has an account' not in r.stderr:
            print(f'user add {record} {addr}: {r.stderr.strip()}', file=sys.stderr)
            return None
    return None


messages = []
for f in sorted(glob.glob(outbox + '/*.eml')):
    name = f.rsplit('/', 1)[-1]
    m = email.message_from_binary_file(open(f, 'rb'), policy=policy.default)
    recipient = str(m['X-Kxmatch-Digest']).split()[-1]
    text = m.get_body(preferencelist=('plain',)).get_content()
    page = m.get_body(preferencelist=('html',))
    if page is None:
        problems.append(f'{name}: no HTML part')
        continue
    parser = Hrefs()
    parser.feed(page.get_content())
    links = text_links(text)
    urls = [x['url'] for x in links]
    odd = (set(parser.hrefs) - set(urls)) | (set(urls) - set(parser.hrefs) - SITE)
    if odd:
        problems.append(f'{name}: one part links {sorted(odd)} and the other does not')
    header = re.sub(r'[<>\s]', '', str(m['List-Unsubscribe']))
    if header not in urls:
        problems.append(f'{name}: List-Unsubscribe {header} is not the unsubscribe link of the body')
    kind = recipient.split(':', 1)[0]
    if kind == 'liaison':
        region = recipient.split(':', 1)[1]
        who = liaison_of.get(region)
        if not who:
            problems.append(f'{name}: no liaison officer of region {region} to sign in as')
            continue
    elif kind in ROLE:
        who = by_record.get(recipient)
        if not who:
            who = add_account(m['To'].addresses[0], ROLE[kind], recipient)
            if not who:
                problems.append(f'{name}: no account for {recipient}')
                continue
            by_record[recipient] = who
    else:
        problems.append(f'{name}: recipient {recipient} of no known kind')
        continue
    for x in links:
        x['url'] = x['url'][len(base):] or '/'  # the path, for the server under test
    messages.append({'file': name, 'recipient': recipient, 'email': who, 'links': links})

for p in problems:
    print('FAIL', p, file=sys.stderr)
json.dump(messages, open(dest, 'w'), ensure_ascii=False, indent=1)
print(f'{len(messages)} messages, {sum(len(x["links"]) for x in messages)} links')
sys.exit(1 if problems or not messages else 0)
