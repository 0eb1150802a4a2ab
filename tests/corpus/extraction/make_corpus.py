"""Writes this corpus: hand-written news pages (html/<id>.html) and their bodies (ground-truth.json).

Run it after changing a page; the pages are generated so that every body paragraph is in exactly one
place (here) and the ground truth cannot drift from the page. All text is invented for wirewatch.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent

PAGES = {
    "harbour-fire": {
        "url": "https://tidewater-herald.example/news/2024/05/warehouse-fire-harbour",
        "title": "Warehouse fire at the harbour leaves two dead",
        "body": [
            "Two night-shift workers died and five were taken to hospital after a fire tore through a grain warehouse on the east quay in the early hours of Saturday, the fire service said.",
            "Crews from four stations fought the blaze for more than six hours. Thick smoke drifted over the old town, and residents were told to keep their windows shut until midday.",
            "The port authority said the warehouse had passed a safety inspection in March. A spokesperson declined to say whether the sprinkler system had been working.",
            "Police have opened an investigation but said there was nothing so far to suggest the fire was started deliberately.",
        ],
        "junk_before": "<div class='cookie-banner'>This site uses cookies to remember your choices. <button>Accept all</button></div>"
        "<div class='share-bar'><a href='#'>Share on Facebook</a> <a href='#'>Share on X</a> <a href='#'>Email this story</a></div>",
        "junk_inside": "<p>Related: Dock workers vote to strike over night-shift pay</p><ul><li>- Harbour master retires after thirty years</li></ul>",
        "junk_after": "<p>Sign up for the Tidewater morning briefing, delivered to your inbox at seven.</p>"
        "<section class='comments'><h3>12 comments</h3><div class='comment'><p>seagull_sam: Terrible news for the quay, my uncle worked there for decades.</p></div>"
        "<div class='comment'><p>quaywalker: The smoke was everywhere this morning, could not see the lighthouse.</p></div></section>",
    },
    "bridge-closure": {
        "url": "https://valley-courier.example/local/bridge-closed-for-repairs-8812",
        "title": "Old river bridge closed for six months of repairs",
        "body": [
            "The old stone bridge that carries the high street over the river will close to traffic on Monday for repairs expected to last six months, the county council announced.",
            "Engineers found cracks in two of the arches during a routine survey in the winter. The council said the bridge was not in danger of collapse but could not carry lorries safely.",
            "Buses will be diverted over the bypass, adding about ten minutes to journeys into town. Pedestrians and cyclists can still cross on a temporary walkway on the downstream side.",
            "Shopkeepers on the high street said they feared a quiet summer. One café owner said half her customers came over the bridge from the estates on the far bank.",
            "The repairs will cost an estimated 2.4 million, shared between the council and a national fund for historic structures.",
        ],
        "junk_before": "<nav class='menu'><a href='/'>Home</a> <a href='/local'>Local</a> <a href='/sport'>Sport</a> <a href='/jobs'>Jobs</a></nav>"
        "<div class='advert'>ADVERTISEMENT <a href='https://ads.example/'>Holiday cottages from 99 a night</a></div>",
        "junk_inside": "<aside class='inline-related'><h4>Read more</h4><ul><li><a href='/x'>Flood defences approved for lower town</a></li></ul></aside>",
        "junk_after": "<p>Follow the Valley Courier on Twitter and Facebook for the latest local news.</p>"
        "<div class='most-read'><h3>Most read</h3><ol><li><a href='/a'>Village fete returns after five years</a></li><li><a href='/b'>New head for the grammar school</a></li></ol></div>",
    },
    "storm-deaths": {
        "url": "https://coastline-news.example/world/storm-kills-nine-in-coastal-villages",
        "title": "Storm kills nine in coastal villages",
        "body": [
            "At least nine people were killed and more than thirty injured when a storm brought winds of up to 140 kilometres an hour to a string of fishing villages overnight, officials said on Thursday.",
            "Most of the victims were caught when roofs and walls collapsed. Rescue teams were still searching for three people reported missing near the river mouth.",
            "Power was cut to some 40,000 homes. The regional government said it would send generators, drinking water and tents, and asked people to stay away from the shore.",
            "Meteorologists said the storm was weakening as it moved inland but warned of flooding in low-lying farmland over the next two days.",
        ],
        "junk_before": "<header><a href='/'>Coastline News</a><form><input name='q' placeholder='Search'></form></header>",
        "junk_inside": "<div class='newsletter'><p>Get the latest headlines delivered to your inbox every morning.</p><form><input type='email'><button>Subscribe</button></form></div>",
        "junk_after": "<p>SOURCE: Coastline News and agencies</p><div class='tags'>Tags: <a href='/t/storm'>storm</a> <a href='/t/weather'>weather</a></div>"
        "<footer>Copyright Coastline News. All rights reserved. <a href='/privacy'>Privacy policy</a></footer>",
    },
    "library-reopens": {
        "url": "https://northfield-gazette.example/2024/03/12/library-reopens-after-flood/",
        "title": "Library reopens three years after flood",
        "body": [
            "The central library reopened its doors on Tuesday, three years after a burst water main flooded its basement archive and forced the building to close.",
            "Volunteers spent months drying and scanning thousands of damaged records, including parish registers that go back to the seventeenth century.",
            "The refurbished building has a new children's room, a café and a reading garden on what used to be the staff car park.",
            "The head librarian said more than two hundred people had queued outside before the doors opened, some of them carrying books they had borrowed before the flood.",
        ],
        "junk_before": "<div id='consent'>We value your privacy. We and our partners store cookies on your device. <a href='#'>Manage options</a></div>",
        "junk_inside": "<p>Have a news tip? Email the newsroom at any time of day.</p>",
        "junk_after": "<div class='related'><h3>You may also like</h3><ul><li><a href='/c'>Museum wins lottery grant</a></li><li><a href='/d'>Town hall clock restored</a></li></ul></div>"
        "<div id='comments'><h3>Leave a comment</h3><form><textarea></textarea></form></div>",
    },
    "clinic-strike": {
        "url": "https://metro-daily.example/health/nurses-strike-at-city-clinics",
        "title": "Nurses strike at city clinics over staffing",
        "body": [
            "Nurses at the city's five public clinics walked out on Wednesday morning in the first strike over staffing levels in more than a decade.",
            "Their union says wards routinely run with a third fewer nurses than the health department's own guidelines require, and that overtime has become the rule rather than the exception.",
            "Emergency care continued as normal, but hundreds of routine appointments were cancelled. The health department urged patients to check its website before travelling.",
            "Talks between the union and the department broke down last week. Both sides said they were willing to meet again, but no date had been set.",
            "A second 24-hour strike is planned for the end of the month if there is no new offer.",
        ],
        "junk_before": "<div class='topbar'><a href='/login'>Log in</a> <a href='/subscribe'>Subscribe</a></div>",
        "junk_inside": "<div class='social-share'><span>Share this article</span> <a href='#'>WhatsApp</a> <a href='#'>Copy link</a></div>",
        "junk_after": "<p>Listen to Metro Daily live at noon on weekdays, or download the Metro Daily app.</p>"
        "<aside class='trending'><h3>Trending</h3><ul><li><a href='/e'>Tram line extension delayed again</a></li></ul></aside>",
    },
    "vineyard-frost": {
        "url": "https://wine-country-post.example/business/late-frost-hits-vineyards",
        "title": "Late frost hits hillside vineyards",
        "body": [
            "A late frost on two consecutive nights has damaged young buds across the hillside vineyards, and growers say this year's harvest could be a third smaller than usual.",
            "Some estates lit candles and straw fires between the rows, and a few hired helicopters to push warmer air down onto the vines. Most of the smaller growers could do nothing but wait.",
            "The regional growers' association asked the agriculture ministry to declare a natural disaster, which would open the way to emergency loans.",
        ],
        "junk_before": "<nav><ul><li><a href='/'>Home</a></li><li><a href='/business'>Business</a></li><li><a href='/travel'>Travel</a></li></ul></nav>",
        "junk_inside": "",
        "junk_after": "<div class='author-box'><p>If you enjoyed this article, please consider supporting our independent journalism.</p></div>"
        "<section class='comments'><h3>3 comments</h3><p>grower_anna: We lost most of the lower rows, the worst since I was a child.</p></section>",
    },
}

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} | {site}</title>
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-04T06:00:00Z"></head>
<body>
{junk_before}
<main><article>
<h1>{title}</h1>
{first}
{junk_inside}
{rest}
</article>
{junk_after}
</main>
</body></html>
"""


def main() -> None:
    (HERE / "html").mkdir(exist_ok=True)
    truth = {}
    for page_id, page in PAGES.items():
        paragraphs = [f"<p>{p}</p>" for p in page["body"]]
        site = page["url"].split("/")[2]
        html = TEMPLATE.format(
            title=page["title"],
            site=site,
            junk_before=page["junk_before"],
            first="\n".join(paragraphs[:2]),
            junk_inside=page["junk_inside"],
            rest="\n".join(paragraphs[2:]),
            junk_after=page["junk_after"],
        )
        (HERE / "html" / f"{page_id}.html").write_text(html, encoding="utf-8")
        truth[page_id] = {"articleBody": "\n".join(page["body"]), "url": page["url"]}
    (HERE / "ground-truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
