"""Technology fingerprints from script sources, HTML markers, meta generator, cookies, headers.

The rules are data: one entry per technology in `TECHNOLOGIES`. Each entry may name
- "script": substrings of a <script src> (or stylesheet/preload href), lower case;
- "html": substrings of the raw HTML, lower case (inline snippets, markers, asset paths);
- "meta": {meta name: regex on its content} (the generator, mostly);
- "headers": {header name: regex on its value} (server, x-powered-by, via...);
- "cookies": regexes on cookie names (from `cookies` and the set-cookie header);
- "implies": names of technologies that come with it (Next.js implies React).
Add a technology by adding an entry; nothing else needs to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .document import Document

TECHNOLOGIES: list[dict] = [
    # --- analytics -------------------------------------------------------------------------
    {
        "name": "Google Analytics",
        "category": "analytics",
        "script": [
            "google-analytics.com/analytics.js",
            "google-analytics.com/ga.js",
            "googletagmanager.com/gtag/js",
        ],
        "html": [
            "google-analytics.com/analytics.js",
            "gtag('config'",
            'gtag("config"',
            "ga('create'",
        ],
        "cookies": [r"^_ga(_|$)", r"^_gid$"],
    },
    {
        "name": "Google Tag Manager",
        "category": "analytics",
        "script": ["googletagmanager.com/gtm.js"],
        "html": ["googletagmanager.com/gtm.js", "googletagmanager.com/ns.html"],
    },
    {
        "name": "Segment",
        "category": "analytics",
        "script": ["cdn.segment.com/analytics.js", "cdn.segment.io"],
        "html": ["cdn.segment.com/analytics.js", "cdn.segment.com"],
        "cookies": [r"^ajs_(anonymous|user)_id$"],
    },
    {
        "name": "Mixpanel",
        "category": "analytics",
        "script": ["cdn.mxpnl.com", "mixpanel"],
        "html": ["cdn.mxpnl.com", "mixpanel.init(", "cdn4.mxpnl.com"],
        "cookies": [r"^mp_[0-9a-f]+_mixpanel$"],
    },
    {
        "name": "Amplitude",
        "category": "analytics",
        "script": ["cdn.amplitude.com", "amplitude.com/libs"],
        "html": ["cdn.amplitude.com", "amplitude.getinstance(", "amplitude.init("],
        "cookies": [r"^amp_[0-9a-f]{6}"],
    },
    {
        "name": "Hotjar",
        "category": "analytics",
        "script": ["static.hotjar.com"],
        "html": ["static.hotjar.com", "hotjar.com/c/hotjar-"],
        "cookies": [r"^_hj(sessionuser|session|id|firstseen|incl)"],
    },
    {
        "name": "Plausible",
        "category": "analytics",
        "script": ["plausible.io/js"],
        "html": ["plausible.io/js/"],
    },
    {
        "name": "Matomo",
        "category": "analytics",
        "script": ["matomo.js", "piwik.js", "matomo.cloud"],
        "html": ["matomo.js", "piwik.js", "_paq.push("],
        "meta": {"generator": r"^Matomo"},
        "cookies": [r"^_pk_(id|ses)\."],
    },
    {
        "name": "Heap",
        "category": "analytics",
        "script": ["cdn.heapanalytics.com"],
        "html": ["cdn.heapanalytics.com", "heap.load("],
        "cookies": [r"^_hp2_id\."],
    },
    {
        "name": "PostHog",
        "category": "analytics",
        "script": ["posthog.com/static/array.js", ".i.posthog.com", "posthog"],
        "html": ["posthog.init(", ".i.posthog.com", "app.posthog.com"],
        "cookies": [r"^ph_phc_"],
    },
    {
        "name": "Fathom",
        "category": "analytics",
        "script": ["cdn.usefathom.com"],
        "html": ["cdn.usefathom.com"],
    },
    {
        "name": "Microsoft Clarity",
        "category": "analytics",
        "script": ["clarity.ms/tag"],
        "html": ["www.clarity.ms/tag/"],
        "cookies": [r"^_clck$", r"^_clsk$"],
    },
    {
        "name": "Facebook Pixel",
        "category": "analytics",
        "script": ["connect.facebook.net/en_us/fbevents.js", "/fbevents.js"],
        "html": ["fbevents.js", "fbq('init'", 'fbq("init"'],
        "cookies": [r"^_fbp$"],
    },
    {
        "name": "LinkedIn Insight Tag",
        "category": "analytics",
        "script": ["snap.licdn.com/li.lms-analytics"],
        "html": ["snap.licdn.com/li.lms-analytics", "_linkedin_partner_id"],
    },
    {
        "name": "FullStory",
        "category": "analytics",
        "script": ["edge.fullstory.com", "fullstory.com/s/fs.js"],
        "html": ["edge.fullstory.com", "fullstory.com/s/fs.js", "window['_fs_org']"],
    },
    {
        "name": "Yandex Metrica",
        "category": "analytics",
        "script": ["mc.yandex.ru/metrika"],
        "html": ["mc.yandex.ru/metrika"],
        "cookies": [r"^_ym_uid$"],
    },
    # --- CRM and marketing automation ------------------------------------------------------
    {
        "name": "HubSpot",
        "category": "crm",
        "script": [
            "js.hs-scripts.com",
            "js.hsforms.net",
            "js.hs-analytics.net",
            "js.hubspot.com",
            "js.hs-banner.com",
        ],
        "html": ["js.hs-scripts.com", "js.hsforms.net", "hbspt.forms.create"],
        "cookies": [r"^hubspotutk$", r"^__hstc$", r"^__hssc$"],
    },
    {
        "name": "Salesforce",
        "category": "crm",
        "script": [
            "salesforceliveagent.com",
            "force.com",
            "my.salesforce-scrt.com",
            "service.force.com",
        ],
        "html": [
            "webto.salesforce.com",
            "salesforceliveagent.com",
            "my.salesforce-scrt.com",
            "embeddedservice_bootstrap",
        ],
    },
    {
        "name": "Salesforce Pardot",
        "category": "crm",
        "script": ["pi.pardot.com", "pardot.com/pd.js"],
        "html": ["pi.pardot.com", "go.pardot.com", "piaid =", "piaid="],
        "cookies": [r"^visitor_id\d+", r"^pardot$"],
    },
    {
        "name": "Marketo",
        "category": "crm",
        "script": ["munchkin.marketo.net", "marketo.com/js/forms2"],
        "html": ["munchkin.marketo.net", "mktoforms2", "munchkin.init("],
        "cookies": [r"^_mkto_trk$"],
    },
    {
        "name": "Mailchimp",
        "category": "crm",
        "script": ["chimpstatic.com", "list-manage.com"],
        "html": ["list-manage.com/subscribe", "chimpstatic.com", "mc_embed_signup"],
    },
    {
        "name": "Klaviyo",
        "category": "crm",
        "script": ["static.klaviyo.com"],
        "html": ["static.klaviyo.com", "klaviyo.com/onsite"],
        "cookies": [r"^__kla_id$"],
    },
    {
        "name": "ActiveCampaign",
        "category": "crm",
        "script": ["trackcmp.net", "activehosted.com"],
        "html": ["trackcmp.net", ".activehosted.com"],
    },
    {
        "name": "Brevo",
        "category": "crm",
        "script": ["sibautomation.com", "sibforms.com"],
        "html": ["sibautomation.com", "sibforms.com", "sendinblue"],
    },
    {
        "name": "Calendly",
        "category": "crm",
        "script": ["assets.calendly.com"],
        "html": ["assets.calendly.com", "calendly.com/"],
    },
    # --- chat and support --------------------------------------------------------------------
    {
        "name": "Intercom",
        "category": "chat",
        "script": ["widget.intercom.io", "js.intercomcdn.com"],
        "html": ["widget.intercom.io", "js.intercomcdn.com", "intercomsettings"],
        "cookies": [r"^intercom-(id|session|device-id)-"],
    },
    {
        "name": "Drift",
        "category": "chat",
        "script": ["js.driftt.com", "drift.com/include"],
        "html": ["js.driftt.com", "drift.load("],
        "cookies": [r"^driftt_aid$"],
    },
    {
        "name": "Zendesk",
        "category": "chat",
        "script": ["static.zdassets.com", "zopim.com", "zendesk.com/embeddable"],
        "html": ["static.zdassets.com", "v2.zopim.com", "ze-snippet"],
        "cookies": [r"^__zlcmid$"],
    },
    {
        "name": "Crisp",
        "category": "chat",
        "script": ["client.crisp.chat"],
        "html": ["client.crisp.chat", "crisp_website_id"],
    },
    {
        "name": "Freshchat",
        "category": "chat",
        "script": ["wchat.freshchat.com", "fw-cdn.com", "freshchat"],
        "html": ["wchat.freshchat.com", "fcwidget.init("],
    },
    {
        "name": "Freshdesk",
        "category": "chat",
        "script": ["widget.freshworks.com"],
        "html": ["widget.freshworks.com", "fwsettings"],
    },
    {
        "name": "LiveChat",
        "category": "chat",
        "script": ["cdn.livechatinc.com"],
        "html": ["cdn.livechatinc.com", "__lc.license"],
    },
    {
        "name": "Olark",
        "category": "chat",
        "script": ["static.olark.com"],
        "html": ["static.olark.com", "olark.identify("],
    },
    {
        "name": "tawk.to",
        "category": "chat",
        "script": ["embed.tawk.to"],
        "html": ["embed.tawk.to", "tawk_api"],
    },
    {"name": "Tidio", "category": "chat", "script": ["code.tidio.co"], "html": ["code.tidio.co"]},
    # --- CMS ---------------------------------------------------------------------------------
    {
        "name": "WordPress",
        "category": "cms",
        "script": ["/wp-content/", "/wp-includes/"],
        "html": ["/wp-content/", "/wp-includes/", "wp-json", "wp-emoji-release"],
        "meta": {"generator": r"^WordPress"},
        "headers": {"link": r"wp-json|wp\.me", "x-pingback": r"xmlrpc\.php"},
        "cookies": [r"^wordpress_", r"^wp-settings-"],
    },
    {
        "name": "Drupal",
        "category": "cms",
        "script": ["/sites/all/", "/core/misc/drupal.js", "/misc/drupal.js"],
        "html": ["drupal-settings-json", "drupal.settings", "/sites/default/files/"],
        "meta": {"generator": r"^Drupal"},
        "headers": {
            "x-generator": r"Drupal",
            "x-drupal-cache": r".",
            "x-drupal-dynamic-cache": r".",
        },
        "cookies": [r"^SSESS[0-9a-f]+$"],
    },
    {
        "name": "Joomla",
        "category": "cms",
        "script": ["/media/jui/", "/media/system/js/"],
        "html": ["/media/jui/", "option=com_", "/components/com_"],
        "meta": {"generator": r"Joomla"},
    },
    {
        "name": "Webflow",
        "category": "cms",
        "script": ["assets.website-files.com", "cdn.prod.website-files.com", "webflow.js"],
        "html": [
            "data-wf-page",
            "data-wf-site",
            "assets.website-files.com",
            "cdn.prod.website-files.com",
        ],
        "meta": {"generator": r"^Webflow"},
    },
    {
        "name": "Wix",
        "category": "cms",
        "script": ["static.parastorage.com", "static.wixstatic.com"],
        "html": ["static.wixstatic.com", "static.parastorage.com", "wix-warmup-data"],
        "meta": {"generator": r"Wix\.com"},
        "headers": {"x-wix-request-id": r"."},
    },
    {
        "name": "Squarespace",
        "category": "cms",
        "script": ["static1.squarespace.com", "assets.squarespace.com"],
        "html": ["static1.squarespace.com", "squarespace-cdn.com", "<!-- this is squarespace. -->"],
        "meta": {"generator": r"Squarespace"},
    },
    {
        "name": "Ghost",
        "category": "cms",
        "script": ["/ghost/", "ghost.io"],
        "html": ["/ghost/api/", "ghost-portal", "data-ghost"],
        "meta": {"generator": r"^Ghost"},
        "headers": {"x-ghost-cache-status": r"."},
    },
    {
        "name": "Contentful",
        "category": "cms",
        "html": ["images.ctfassets.net", "cdn.contentful.com", "videos.ctfassets.net"],
    },
    {"name": "Sanity", "category": "cms", "html": ["cdn.sanity.io"]},
    {"name": "Storyblok", "category": "cms", "html": ["a.storyblok.com", "app.storyblok.com"]},
    {
        "name": "Prismic",
        "category": "cms",
        "html": ["images.prismic.io", "prismic.io/prismic.js", "static.cdn.prismic.io"],
    },
    {
        "name": "Framer",
        "category": "cms",
        "script": ["framerusercontent.com", "events.framer.com"],
        "html": ["framerusercontent.com", "data-framer-"],
        "meta": {"generator": r"^Framer"},
    },
    {
        "name": "TYPO3",
        "category": "cms",
        "script": ["/typo3conf/", "/typo3temp/"],
        "html": ["/typo3conf/", "/typo3temp/", "/fileadmin/"],
        "meta": {"generator": r"TYPO3"},
    },
    {
        "name": "HubSpot CMS",
        "category": "cms",
        "html": ["hs-sites.com", "/hs-fs/hubfs/", "hubspotusercontent"],
        "meta": {"generator": r"^HubSpot"},
        "headers": {"x-hs-hub-id": r"."},
    },
    {"name": "Hugo", "category": "cms", "meta": {"generator": r"^Hugo"}},
    {"name": "Jekyll", "category": "cms", "meta": {"generator": r"^Jekyll"}},
    # --- e-commerce and payments -------------------------------------------------------------
    {
        "name": "Shopify",
        "category": "ecommerce",
        "script": ["cdn.shopify.com", "shopifycdn"],
        "html": ["cdn.shopify.com", "shopify.theme", "myshopify.com"],
        "headers": {"x-shopid": r".", "x-shopify-stage": r".", "powered-by": r"Shopify"},
        "cookies": [r"^_shopify_(y|s|sa_t)$", r"^cart_sig$"],
    },
    {
        "name": "WooCommerce",
        "category": "ecommerce",
        "script": ["/plugins/woocommerce/"],
        "html": ["/plugins/woocommerce/", "woocommerce-", "wc-ajax", "wc_add_to_cart_params"],
        "meta": {"generator": r"^WooCommerce"},
        "cookies": [r"^woocommerce_", r"^wp_woocommerce_session_"],
        "implies": ["WordPress"],
    },
    {
        "name": "Magento",
        "category": "ecommerce",
        "script": ["/static/version", "mage/cookies", "/skin/frontend/"],
        "html": ["text/x-magento-init", "mage/cookies", "magento_", "/skin/frontend/"],
        "headers": {"x-magento-cache-debug": r".", "x-magento-tags": r"."},
        "cookies": [r"^mage-(cache|translation)"],
    },
    {
        "name": "BigCommerce",
        "category": "ecommerce",
        "script": ["bigcommerce.com"],
        "html": ["cdn11.bigcommerce.com", "bigcommerce.com/s-"],
        "headers": {"x-bc-": r"."},
    },
    {
        "name": "PrestaShop",
        "category": "ecommerce",
        "script": ["/modules/ps_", "prestashop"],
        "html": ["var prestashop", "/modules/ps_"],
        "meta": {"generator": r"PrestaShop"},
        "headers": {"powered-by": r"PrestaShop"},
        "cookies": [r"^PrestaShop-"],
    },
    {
        "name": "Shopware",
        "category": "ecommerce",
        "html": ["/bundles/storefront/"],
        "headers": {"sw-version-id": r"."},
        "cookies": [r"^sw-"],
    },
    {
        "name": "Stripe.js",
        "category": "ecommerce",
        "script": ["js.stripe.com"],
        "html": ["js.stripe.com/v3", "js.stripe.com"],
        "cookies": [r"^__stripe_(mid|sid)$"],
    },
    {
        "name": "PayPal",
        "category": "ecommerce",
        "script": ["paypal.com/sdk/js", "paypalobjects.com"],
        "html": ["paypal.com/sdk/js", "paypalobjects.com"],
    },
    {
        "name": "Paddle",
        "category": "ecommerce",
        "script": ["cdn.paddle.com"],
        "html": ["cdn.paddle.com/paddle"],
    },
    {
        "name": "Chargebee",
        "category": "ecommerce",
        "script": ["js.chargebee.com"],
        "html": ["js.chargebee.com"],
    },
    # --- frameworks and libraries ------------------------------------------------------------
    {
        "name": "React",
        "category": "framework",
        "script": ["react.production.min.js", "react-dom.production", "/react@", "/react-dom@"],
        "html": ["data-reactroot", "data-reactid", "react-dom.production"],
    },
    {
        "name": "Next.js",
        "category": "framework",
        "script": ["/_next/static/"],
        "html": ["__next_data__", "/_next/static/", 'id="__next"'],
        "headers": {
            "x-powered-by": r"Next\.js",
            "x-nextjs-cache": r".",
            "x-nextjs-prerender": r".",
        },
        "implies": ["React"],
    },
    {
        "name": "Vue.js",
        "category": "framework",
        "script": ["vue.min.js", "vue.global", "vue.runtime", "/vue@"],
        "html": ["data-v-app", "vue.min.js", "__vue__"],
    },
    {
        "name": "Nuxt",
        "category": "framework",
        "script": ["/_nuxt/"],
        "html": ["window.__nuxt__", "__nuxt", "/_nuxt/"],
        "headers": {"x-powered-by": r"Nuxt"},
        "implies": ["Vue.js"],
    },
    {
        "name": "Angular",
        "category": "framework",
        "html": ["ng-version=", "_nghost-", "_ngcontent-"],
    },
    {
        "name": "AngularJS",
        "category": "framework",
        "script": ["angular.min.js", "angular.js", "/angular@1"],
        "html": ["ng-app=", "ng-controller="],
    },
    {"name": "Svelte", "category": "framework", "html": ['class="svelte-', "svelte-announcer"]},
    {
        "name": "SvelteKit",
        "category": "framework",
        "script": ["/_app/immutable/"],
        "html": ["__sveltekit", "/_app/immutable/", "data-sveltekit-"],
        "implies": ["Svelte"],
    },
    {
        "name": "Gatsby",
        "category": "framework",
        "script": ["/page-data/"],
        "html": ["___gatsby", "/page-data/", "gatsby-"],
        "meta": {"generator": r"^Gatsby"},
        "implies": ["React"],
    },
    {
        "name": "Remix",
        "category": "framework",
        "html": ["__remixcontext", "__remixmanifest"],
        "implies": ["React"],
    },
    {
        "name": "Astro",
        "category": "framework",
        "html": ["<astro-island", "astro-island"],
        "meta": {"generator": r"^Astro"},
    },
    {
        "name": "Ember.js",
        "category": "framework",
        "script": ["ember.min.js", "ember.prod.js"],
        "html": ["ember-application", "data-ember-extension"],
    },
    {
        "name": "Alpine.js",
        "category": "framework",
        "script": ["alpinejs", "alpine.min.js"],
        "html": ["x-data=", "cdn.jsdelivr.net/npm/alpinejs"],
    },
    {
        "name": "htmx",
        "category": "framework",
        "script": ["htmx.org", "htmx.min.js"],
        "html": ["hx-get=", "hx-post=", "htmx.min.js"],
    },
    {
        "name": "jQuery",
        "category": "framework",
        "script": ["jquery.min.js", "jquery.js", "/jquery-", "jquery@", "/jquery/"],
        "html": ["jquery.min.js", "code.jquery.com"],
    },
    {
        "name": "Bootstrap",
        "category": "framework",
        "script": ["bootstrap.min.js", "bootstrap.bundle", "bootstrap.min.css", "bootstrap@"],
        "html": ["bootstrap.min.css", "bootstrap.min.js", "bootstrap.bundle"],
    },
    {
        "name": "Tailwind CSS",
        "category": "framework",
        "script": ["cdn.tailwindcss.com", "tailwind"],
        "html": ["cdn.tailwindcss.com", "--tw-", "tailwindcss"],
    },
    {
        "name": "Font Awesome",
        "category": "framework",
        "script": ["fontawesome", "font-awesome", "kit.fontawesome.com"],
        "html": ["kit.fontawesome.com", "font-awesome", "fontawesome"],
    },
    {
        "name": "Google Fonts",
        "category": "framework",
        "script": ["fonts.googleapis.com"],
        "html": ["fonts.googleapis.com"],
    },
    {
        "name": "reCAPTCHA",
        "category": "framework",
        "script": ["google.com/recaptcha", "recaptcha/api.js"],
        "html": ["google.com/recaptcha", "g-recaptcha"],
    },
    {
        "name": "PHP",
        "category": "framework",
        "headers": {"x-powered-by": r"PHP"},
        "cookies": [r"^PHPSESSID$"],
    },
    {
        "name": "ASP.NET",
        "category": "framework",
        "html": ["__viewstate", "__eventvalidation"],
        "headers": {"x-powered-by": r"ASP\.NET", "x-aspnet-version": r"."},
        "cookies": [r"^ASP\.NET_SessionId$", r"^\.AspNetCore\."],
    },
    {"name": "Express", "category": "framework", "headers": {"x-powered-by": r"^Express"}},
    {
        "name": "Ruby on Rails",
        "category": "framework",
        "html": ['name="csrf-param" content="authenticity_token"', "data-turbo-track", "rails-ujs"],
        "headers": {"x-runtime": r"^\d", "x-powered-by": r"Phusion Passenger"},
        "cookies": [r"^_[a-z0-9_]+_session$"],
    },
    {
        "name": "Django",
        "category": "framework",
        "html": ["csrfmiddlewaretoken"],
        "cookies": [r"^csrftoken$", r"^django_language$"],
    },
    # --- infrastructure ----------------------------------------------------------------------
    {
        "name": "Cloudflare",
        "category": "infrastructure",
        "html": ["/cdn-cgi/", "cf-beacon", "static.cloudflareinsights.com"],
        "headers": {"server": r"cloudflare", "cf-ray": r".", "cf-cache-status": r"."},
        "cookies": [r"^__cf_bm$", r"^__cfruid$", r"^cf_clearance$"],
    },
    {
        "name": "Vercel",
        "category": "infrastructure",
        "html": ["/_vercel/insights", "vercel.live"],
        "headers": {"x-vercel-id": r".", "x-vercel-cache": r".", "server": r"^Vercel"},
    },
    {
        "name": "Netlify",
        "category": "infrastructure",
        "headers": {"server": r"^Netlify", "x-nf-request-id": r"."},
    },
    {
        "name": "Fastly",
        "category": "infrastructure",
        "headers": {
            "x-served-by": r"cache-[a-z0-9]+-[A-Z]{3}",
            "fastly-debug-digest": r".",
            "x-fastly-request-id": r".",
            "via": r"varnish.*fastly|fastly",
        },
    },
    {
        "name": "AWS CloudFront",
        "category": "infrastructure",
        "headers": {
            "via": r"\(CloudFront\)",
            "x-amz-cf-id": r".",
            "x-amz-cf-pop": r".",
            "server": r"^CloudFront",
        },
    },
    {
        "name": "Amazon S3",
        "category": "infrastructure",
        "headers": {"server": r"^AmazonS3", "x-amz-bucket-region": r"."},
    },
    {
        "name": "Akamai",
        "category": "infrastructure",
        "headers": {
            "server": r"AkamaiGHost|AkamaiNetStorage",
            "x-akamai-transformed": r".",
            "akamai-grn": r".",
        },
    },
    {
        "name": "Google Cloud",
        "category": "infrastructure",
        "headers": {"server": r"^Google Frontend|^gws", "via": r"1\.1 google"},
    },
    {
        "name": "Microsoft Azure",
        "category": "infrastructure",
        "headers": {"x-azure-ref": r".", "x-msedge-ref": r".", "server": r"Windows-Azure"},
    },
    {
        "name": "Heroku",
        "category": "infrastructure",
        "headers": {"via": r"vegur", "server": r"^Heroku"},
    },
    {"name": "GitHub Pages", "category": "infrastructure", "headers": {"server": r"^GitHub\.com"}},
    {
        "name": "Fly.io",
        "category": "infrastructure",
        "headers": {"fly-request-id": r".", "server": r"^Fly/"},
    },
    {
        "name": "Render",
        "category": "infrastructure",
        "headers": {"rndr-id": r".", "x-render-origin-server": r"."},
    },
    {
        "name": "WP Engine",
        "category": "infrastructure",
        "headers": {"x-powered-by": r"WP Engine", "wpe-backend": r"."},
        "implies": ["WordPress"],
    },
    {
        "name": "Varnish",
        "category": "infrastructure",
        "headers": {"x-varnish": r".", "via": r"varnish"},
    },
    {"name": "nginx", "category": "infrastructure", "headers": {"server": r"^nginx"}},
    {"name": "OpenResty", "category": "infrastructure", "headers": {"server": r"^openresty"}},
    {"name": "Apache", "category": "infrastructure", "headers": {"server": r"^Apache(?!-Coyote)"}},
    {
        "name": "Microsoft IIS",
        "category": "infrastructure",
        "headers": {"server": r"^Microsoft-IIS"},
    },
    {
        "name": "LiteSpeed",
        "category": "infrastructure",
        "headers": {"server": r"LiteSpeed", "x-litespeed-cache": r"."},
    },
    {"name": "Caddy", "category": "infrastructure", "headers": {"server": r"^Caddy"}},
]

CATEGORIES = ("analytics", "crm", "chat", "cms", "ecommerce", "framework", "infrastructure")

_COMPILED: list[dict] | None = None
_SET_COOKIE_NAME = re.compile(r"(?:^|,)\s*([^=;,\s]+)=")


def _compiled() -> list[dict]:
    global _COMPILED
    if _COMPILED is None:
        rules = []
        for tech in TECHNOLOGIES:
            rules.append(
                {
                    "name": tech["name"],
                    "category": tech["category"],
                    "script": [s.lower() for s in tech.get("script", ())],
                    "html": [(s.lower(), _probes(s.lower())) for s in tech.get("html", ())],
                    "meta": {
                        k.lower(): re.compile(v, re.I) for k, v in tech.get("meta", {}).items()
                    },
                    "headers": {
                        k.lower(): re.compile(v, re.I) for k, v in tech.get("headers", {}).items()
                    },
                    "cookies": [re.compile(c) for c in tech.get("cookies", ())],
                    "implies": list(tech.get("implies", ())),
                }
            )
        _COMPILED = rules
    return _COMPILED


# The raw-HTML markers are confirmed with one substring search each, but only after a cheap
# test that cannot say no wrongly: the page's distinct word tokens (runs of letters and "_";
# digits split them, which keeps SVG path data from making thousands of tokens) are collected
# once, and every word a marker holds must be among them: a word the marker delimits on both
# sides as a whole token, its first word as the end of a token and its last word as the start
# of one. Most markers fail that test and never scan the page.
_TOKEN_BYTES = bytes(c if (65 <= c <= 90 or 97 <= c <= 122 or c == 95) else 32 for c in range(256))
_NEEDLE_WORD = re.compile(r"[A-Za-z_]+")


def _probes(needle: str) -> tuple[frozenset[bytes], tuple[bytes, ...]] | None:
    """(whole tokens, probes into the newline-joined token list) that `needle` needs; None
    when it cannot be tested that way (non-ASCII)."""
    if not needle.isascii():
        return None
    whole: set[bytes] = set()
    parts: list[bytes] = []
    for m in _NEEDLE_WORD.finditer(needle):
        word = m.group().encode()
        open_left, open_right = m.start() == 0, m.end() == len(needle)
        if not open_left and not open_right:
            whole.add(word)
        elif open_left and open_right:
            parts.append(word)  # somewhere inside one token
        elif open_left:
            parts.append(word + b"\n")  # the end of a token
        else:
            parts.append(b"\n" + word)  # the start of a token
    return frozenset(whole), tuple(sorted(parts, key=len, reverse=True))


class _Tokens:
    """The distinct word tokens of a page, as a set and as one newline-joined string."""

    def __init__(self, html_lower: str):
        raw = html_lower.encode("utf-8", "replace").translate(_TOKEN_BYTES)
        self.set = set(raw.split())
        self.joined = b"\n" + b"\n".join(self.set) + b"\n"

    def may_hold(self, probes) -> bool:
        if probes is None:
            return True
        whole, parts = probes
        if whole and not whole <= self.set:
            return False
        joined = self.joined
        return all(p in joined for p in parts)


def _header_items(headers: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if not headers:
        return out
    try:
        items = list(headers.items())
    except Exception:
        return out
    for key, value in items:
        key = str(key).lower()
        value = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def cookie_names(cookies: Iterable[str], headers: dict[str, str]) -> list[str]:
    names = []
    for cookie in cookies or ():
        name = str(cookie).split("=", 1)[0].strip()
        if name:
            names.append(name)
    if "set-cookie" in headers:
        names.extend(_SET_COOKIE_NAME.findall(headers["set-cookie"]))
    return names


def _sources(doc: Document) -> list[str]:
    """Script sources, then stylesheet/preload hrefs, lower case."""
    if doc.root is None:
        return []
    out = [s.get("src", "").lower() for s in doc.root.iter("script") if s.get("src")]
    out = [f"script: {src}" for src in out]
    out += [
        "link: " + el.get("href", "").lower()
        for el in doc.root.iter("link")
        if el.get("href")
        and (el.get("rel") or "").lower() in ("stylesheet", "preload", "modulepreload", "prefetch")
    ]
    return out


def _generator_meta(doc: Document) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if doc.root is None:
        return out
    for el in doc.root.iter("meta"):
        name = (el.get("name") or el.get("property") or "").lower()
        if name in (
            "generator",
            "application-name",
            "shopify-digital-wallet",
            "powered-by",
        ) and el.get("content"):
            out.setdefault(name, []).append(el.get("content").strip())
    return out


def detect(
    doc: Document, headers: Mapping[str, str] | None = None, cookies: Iterable[str] = ()
) -> list[dict]:
    header_map = _header_items(headers)
    names = cookie_names(cookies, header_map)
    sources = _sources(doc)
    joined_sources = "\n".join(sources)
    html = doc.html_lower
    metas = _generator_meta(doc)
    found: dict[str, dict] = {}
    order: list[str] = []
    tokens: _Tokens | None = None
    for rule in _compiled():
        evidence = ""
        for name, pattern in rule["meta"].items():
            value = next((v for v in metas.get(name, ()) if pattern.search(v)), None)
            if value:
                evidence = f"meta {name}: {value[:120]}"
                break
        if not evidence:
            for needle in rule["script"]:
                if needle in joined_sources:
                    evidence = next(s for s in sources if needle in s)[:200]
                    break
        if not evidence:
            for name, pattern in rule["headers"].items():
                if name.endswith("-"):
                    key = next((k for k in header_map if k.startswith(name)), None)
                    if key:
                        evidence = f"header {key}"
                        break
                elif name in header_map and pattern.search(header_map[name]):
                    evidence = f"header {name}: {header_map[name][:120]}"
                    break
        if not evidence:
            for pattern in rule["cookies"]:
                cookie = next((c for c in names if pattern.search(c)), None)
                if cookie:
                    evidence = f"cookie {cookie}"
                    break
        if not evidence:
            for needle, probes in rule["html"]:
                if tokens is None:
                    tokens = _Tokens(html)
                if not tokens.may_hold(probes):
                    continue  # a cheap no: some word of the needle is missing
                if needle in html:
                    evidence = f"html: {needle}"
                    break
        if evidence:
            found[rule["name"]] = {
                "name": rule["name"],
                "category": rule["category"],
                "evidence": evidence,
            }
            order.append(rule["name"])
    by_name = {r["name"]: r for r in _compiled()}
    for name in list(order):
        for implied in by_name[name]["implies"]:
            if implied not in found and implied in by_name:
                found[implied] = {
                    "name": implied,
                    "category": by_name[implied]["category"],
                    "evidence": f"implied by {name}",
                }
                order.append(implied)
    return [found[name] for name in order]
