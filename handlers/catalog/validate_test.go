package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

const (
	bbID   = "CFQ7TTC0LH18:0001"
	bbName = "Microsoft 365 Business Basic"
	bb     = `offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic)`
	azure  = `offer "DZH318Z0BPS6:0001" (Azure plan)`
)

// small is a valid catalog: one license offer with three plans and one
// usage offer, priced in USD and JPY.
func small() *Catalog {
	return &Catalog{
		Version:    "test-1",
		Currencies: map[string]Currency{"USD": {Exponent: 2}, "JPY": {Exponent: 0}},
		Policy: Policy{
			TaxInclusiveCountries:  []string{"AU", "BR"},
			Segments:               []string{"commercial", "education", "government", "nonprofit"},
			MaxSubscriptionUpdates: 1200,
		},
		Offers: []Offer{
			{
				ID: bbID, Name: bbName, Publisher: "microsoft",
				CommerceType: "new_commerce", BillingType: "license",
				Segments:    []string{"commercial", "education"},
				MinQuantity: 1, MaxQuantity: 300, CancelWindowHours: 168,
				Plans: []Plan{
					{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 720, "JPY": 1080}},
					{Term: "P1Y", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 630, "JPY": 945}},
					{Term: "P1Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 7200, "JPY": 10800}},
				},
			},
			{
				ID: "DZH318Z0BPS6:0001", Name: "Azure plan", Publisher: "microsoft",
				CommerceType: "new_commerce", BillingType: "usage", OnePerCustomer: true,
				Segments:          []string{"commercial"},
				CancelWindowHours: 168,
				Plans: []Plan{
					{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 0, "JPY": 0}},
				},
			},
		},
	}
}

func encode(t *testing.T, c *Catalog) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// problemsOf returns every Problem in err, in order.
func problemsOf(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(err error) {
		var p *Problem
		if errors.As(err, &p) && p == err {
			out = append(out, p)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestSmallCatalogIsValid(t *testing.T) {
	if _, err := Parse(encode(t, small())); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

// Every row breaks one thing and expects exactly one problem, naming the
// entry and the field.
func TestValidationProblems(t *testing.T) {
	addCurrency := func(c *Catalog, code string, exp int, price int64) {
		c.Currencies[code] = Currency{Exponent: exp}
		for i := range c.Offers {
			for j := range c.Offers[i].Plans {
				c.Offers[i].Plans[j].Prices[code] = price
			}
		}
	}
	lic := func(c *Catalog) *Offer { return &c.Offers[0] }
	use := func(c *Catalog) *Offer { return &c.Offers[1] }
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		entry  string
		field  string
		msg    string // substring of the message
	}{
		{"version empty", func(c *Catalog) { c.Version = "" }, "", "version", "must not be empty"},
		{"version blank", func(c *Catalog) { c.Version = "  " }, "", "version", "must not be empty"},
		{"currencies empty", func(c *Catalog) { c.Currencies = nil }, "", "currencies", "must not be empty"},
		{"GEN-3 currency code lowercase", func(c *Catalog) { addCurrency(c, "usd", 2, 1) }, "", `currencies["usd"]`, "3 uppercase letters"},
		{"GEN-3 currency code too long", func(c *Catalog) { addCurrency(c, "EURO", 2, 1) }, "", `currencies["EURO"]`, "3 uppercase letters"},
		{"GEN-3 exponent 5", func(c *Catalog) { c.Currencies["USD"] = Currency{Exponent: 5} }, "", `currencies["USD"].exponent`, "must be 0..4, got 5"},
		{"GEN-3 exponent -1", func(c *Catalog) { c.Currencies["JPY"] = Currency{Exponent: -1} }, "", `currencies["JPY"].exponent`, "must be 0..4, got -1"},
		{"QTY-4 update limit missing", func(c *Catalog) { c.Policy.MaxSubscriptionUpdates = 0 }, "", "policy.max_subscription_updates", "must be at least 1"},
		{"REN-2 renewal processing negative", func(c *Catalog) { c.Policy.RenewalProcessingMinutes = -1 }, "", "policy.renewal_processing_minutes", "must be 0..1440"},
		{"REN-2 renewal processing over a day", func(c *Catalog) { c.Policy.RenewalProcessingMinutes = 1441 }, "", "policy.renewal_processing_minutes", "must be 0..1440"},
		{"ORD-3 policy segments empty", func(c *Catalog) { c.Policy.Segments = nil }, "", "policy.segments", "must not be empty"},
		{"ORD-3 policy segment duplicate", func(c *Catalog) { c.Policy.Segments = append(c.Policy.Segments, "education") }, "", "policy.segments[4]", "duplicate of policy.segments[1]"},
		{"ORD-3 policy segment malformed", func(c *Catalog) { c.Policy.Segments = append(c.Policy.Segments, "Military") }, "", "policy.segments[4]", `"Military" must be lowercase`},
		{"ORD-11 tax country malformed", func(c *Catalog) { c.Policy.TaxInclusiveCountries = []string{"AUS"} }, "", "policy.tax_inclusive_countries[0]", "ISO 3166-1 alpha-2"},
		{"ORD-11 tax country duplicate", func(c *Catalog) { c.Policy.TaxInclusiveCountries = []string{"AU", "BR", "AU"} }, "", "policy.tax_inclusive_countries[2]", "duplicate of policy.tax_inclusive_countries[0]"},
		{"offers empty", func(c *Catalog) { c.Offers = nil }, "", "offers", "must not be empty"},
		{"id empty", func(c *Catalog) { lic(c).ID = "" }, "offers[0] (" + bbName + ")", "id", "must not be empty"},
		{"id separator", func(c *Catalog) { lic(c).ID = "CFQ7TTC0LH18-0001" }, `offer "CFQ7TTC0LH18-0001" (` + bbName + ")", "id", `must look like "CFQ7TTC0LH18:0001"`},
		{"id lowercase", func(c *Catalog) { lic(c).ID = "cfq7ttc0lh18:0001" }, `offer "cfq7ttc0lh18:0001" (` + bbName + ")", "id", "must look like"},
		{"id short sku", func(c *Catalog) { lic(c).ID = "CFQ7TTC0LH18:001" }, `offer "CFQ7TTC0LH18:001" (` + bbName + ")", "id", "must look like"},
		{"id duplicate", func(c *Catalog) { use(c).ID = bbID }, `offer "CFQ7TTC0LH18:0001" (Azure plan)`, "id", "duplicate of offers[0] (" + bbName + ")"},
		{"name empty", func(c *Catalog) { lic(c).Name = "" }, `offer "CFQ7TTC0LH18:0001"`, "name", "must not be empty"},
		{"publisher empty", func(c *Catalog) { lic(c).Publisher = "" }, bb, "publisher", "must not be empty"},
		{"GEN-5 commerce type unknown", func(c *Catalog) { lic(c).CommerceType = "ea_license" }, bb, "commerce_type", `commerce type "ea_license" is not supported by this version (supported: ` + strings.Join(CommerceTypes(), ", ") + `)`},
		{"GEN-5 legacy usage offer", func(c *Catalog) { legacyPolicy(c); use(c).CommerceType = "legacy" }, azure, "billing_type", `a legacy offer must be license-based in this version`},
		{"GEN-5 ORD-9 legacy add-on that is not co-terminous", func(c *Catalog) {
			legacyPolicy(c)
			base := *lic(c)
			base.ID, base.Name = "CFQ7TTC0LFLZ:0001", "Microsoft 365 E3"
			c.Offers = append(c.Offers, base)
			lic(c).CommerceType = "legacy"
			lic(c).Addon = &AddonSpec{Kind: "copilot", BaseOfferIDs: []string{base.ID}, MaxOfBase: true}
		}, bb, "addon", `a legacy add-on must be coterminous (ORD-9), got "copilot"`},
		{"SUS-2 retention missing with a legacy offer", func(c *Catalog) { lic(c).CommerceType = "legacy" }, "", "policy.legacy_data_retention_days", "must be 1..365 (SUS-2: 90) when the catalog sells legacy offers"},
		{"SUS-2 retention max without days", func(c *Catalog) { c.Policy.LegacyDataRetentionMaxDays = 120 }, "", "policy.legacy_data_retention_days", "not 0"},
		{"SUS-2 retention over a year", func(c *Catalog) { legacyPolicy(c); c.Policy.LegacyDataRetentionDays = 366 }, "", "policy.legacy_data_retention_days", "must be 1..365"},
		{"SUS-2 retention max below days", func(c *Catalog) { legacyPolicy(c); c.Policy.LegacyDataRetentionMaxDays = 89 }, "", "policy.legacy_data_retention_max_days", "must be legacy_data_retention_days (90)..365 (SUS-2: 120), not 89"},
		{"SUS-2 retention max over a year", func(c *Catalog) { legacyPolicy(c); c.Policy.LegacyDataRetentionMaxDays = 366 }, "", "policy.legacy_data_retention_max_days", "not 366"},
		{"SUS-2 retention negative", func(c *Catalog) { c.Policy.LegacyDataRetentionDays = -90 }, "", "policy.legacy_data_retention_days", "not -90"},
		{"GEN-5 commerce type empty", func(c *Catalog) { lic(c).CommerceType = "" }, bb, "commerce_type", `commerce type "" is not supported by this version`},
		{"ORD-6 billing type unknown", func(c *Catalog) { lic(c).BillingType = "subscription" }, bb, "billing_type", `must be license or usage, got "subscription"`},
		{"ORD-3 segments empty", func(c *Catalog) { lic(c).Segments = nil }, bb, "segments", "must not be empty"},
		{"ORD-3 segment unknown", func(c *Catalog) { lic(c).Segments = []string{"commercial", "military"} }, bb, "segments[1]", `"military" is not a segment in policy.segments`},
		{"ORD-3 segment duplicate", func(c *Catalog) { lic(c).Segments = []string{"commercial", "commercial"} }, bb, "segments[1]", "duplicate of segments[0]"},
		{"ORD-6 license min 0", func(c *Catalog) { lic(c).MinQuantity = 0 }, bb, "min_quantity", "must be >= 1 for a license-based offer, got 0"},
		{"ORD-6 license max below min", func(c *Catalog) { lic(c).MinQuantity, lic(c).MaxQuantity = 5, 3 }, bb, "max_quantity", "must be >= min_quantity (5)"},
		{"ORD-6 license max 0", func(c *Catalog) { lic(c).MaxQuantity = 0 }, bb, "max_quantity", "got 0"},
		{"ORD-6 usage min 1", func(c *Catalog) { use(c).MinQuantity = 1 }, azure, "min_quantity", "must be 0 for a usage-based offer, got 1"},
		{"ORD-6 usage max 10", func(c *Catalog) { use(c).MaxQuantity = 10 }, azure, "max_quantity", "must be 0 for a usage-based offer, got 10"},
		{"CAN-1 cancel window 0", func(c *Catalog) { lic(c).CancelWindowHours = 0 }, bb, "cancel_window_hours", "must be 1..8760, got 0"},
		{"CAN-1 cancel window negative", func(c *Catalog) { lic(c).CancelWindowHours = -168 }, bb, "cancel_window_hours", "got -168"},
		{"CAN-1 cancel window over a year", func(c *Catalog) { lic(c).CancelWindowHours = 8761 }, bb, "cancel_window_hours", "got 8761"},
		{"plans empty", func(c *Catalog) { lic(c).Plans = nil }, bb, "plans", "must not be empty"},
		{"GEN-4 unknown term", func(c *Catalog) { lic(c).Plans[1].Term = "P2Y" }, bb, "plans[1].term", `"P2Y" is not a term (allowed: P1M, P1Y, P3Y)`},
		{"GEN-4 unknown frequency", func(c *Catalog) { lic(c).Plans[0].BillingFrequency = "weekly" }, bb, "plans[0].billing_frequency", `"weekly" is not a billing frequency`},
		{"GEN-4 P1M billed annually", func(c *Catalog) { lic(c).Plans[0].BillingFrequency = "annual" }, bb, "plans[0].billing_frequency", "annual is not allowed with term P1M (allowed: monthly)"},
		{"GEN-4 P1Y billed triennially", func(c *Catalog) { lic(c).Plans[2].BillingFrequency = "triennial" }, bb, "plans[2].billing_frequency", "triennial is not allowed with term P1Y (allowed: monthly, annual)"},
		{"GEN-4 P3Y billed one_time", func(c *Catalog) { lic(c).Plans[2].Term, lic(c).Plans[2].BillingFrequency = "P3Y", "one_time" }, bb, "plans[2].billing_frequency", "one_time is not allowed with term P3Y (allowed: monthly, annual, triennial)"},
		{"GEN-4 duplicate plan", func(c *Catalog) { lic(c).Plans[2].BillingFrequency = "monthly" }, bb, "plans[2]", "duplicate of plans[1] (P1Y monthly)"},
		{"GEN-3 price missing", func(c *Catalog) { delete(lic(c).Plans[1].Prices, "JPY") }, bb, `plans[1].prices["JPY"]`, "missing: every plan must price every catalog currency"},
		{"GEN-3 unknown currency", func(c *Catalog) { lic(c).Plans[2].Prices["CHF"] = 6500 }, bb, `plans[2].prices["CHF"]`, "currency is not in the catalog's currencies"},
		{"GEN-3 license price 0", func(c *Catalog) { lic(c).Plans[2].Prices["JPY"] = 0 }, bb, `plans[2].prices["JPY"]`, "must be > 0"},
		{"GEN-3 license price negative", func(c *Catalog) { lic(c).Plans[0].Prices["USD"] = -720 }, bb, `plans[0].prices["USD"]`, "must be > 0"},
		{"GEN-3 usage price negative", func(c *Catalog) { use(c).Plans[0].Prices["USD"] = -1 }, azure, `plans[0].prices["USD"]`, "must be >= 0"},
		{"GEN-3 free offer priced", func(c *Catalog) {
			lic(c).Free = true
			for _, p := range lic(c).Plans {
				for k := range p.Prices {
					p.Prices[k] = 0
				}
			}
			lic(c).Plans[1].Prices["USD"] = 630
		}, bb, `plans[1].prices["USD"]`, "must be 0: the offer is marked free"},
		{"usage offer marked free", func(c *Catalog) { use(c).Free = true }, azure, "free", "only a license-based offer can be marked free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := small()
			tc.mutate(c)
			got, err := Parse(encode(t, c))
			if err == nil {
				t.Fatalf("Parse accepted the catalog: %+v", got)
			}
			if got != nil {
				t.Error("Parse returned a catalog with an error")
			}
			ps := problemsOf(err)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.Entry != tc.entry || p.Field != tc.field || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("problem = {Entry: %q, Field: %q, Message: %q}\nwant    {Entry: %q, Field: %q, Message: ~%q}",
					p.Entry, p.Field, p.Message, tc.entry, tc.field, tc.msg)
			}
			// The text an operator reads names the entry and the field.
			want := "catalog: "
			if tc.entry != "" {
				want += tc.entry + ": "
			}
			want += tc.field + ": "
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestValidationExactText(t *testing.T) {
	c := small()
	c.Offers[0].Plans[2].Prices["JPY"] = 0
	_, err := Parse(encode(t, c))
	const want = `catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[2].prices["JPY"]: must be > 0`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// legacyPolicy sets SUS-2's retention policy (90 days, at most 120).
func legacyPolicy(c *Catalog) {
	c.Policy.LegacyDataRetentionDays, c.Policy.LegacyDataRetentionMaxDays = 90, 120
}

// GEN-5: a legacy license offer is accepted with SUS-2's retention policy,
// and the policy computes the retention: 90 days plus the days between
// account opening and first billing, at most 120.
func TestRule_SUS_2_GEN_5_LegacyOfferAndRetentionPolicy(t *testing.T) {
	c := small()
	legacyPolicy(c)
	c.Offers[0].CommerceType = CommerceTypeLegacy
	got, err := Parse(encode(t, c))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if o, _ := got.Offer(bbID); o.CommerceType != "legacy" {
		t.Fatalf("commerce type %q", o.CommerceType)
	}
	for _, tc := range []struct {
		name      string
		gap, want int
	}{
		{"SUS-2 no gap: 90 days", 0, 90},
		{"SUS-2 negative gap counts as 0", -5, 90},
		{"SUS-2 20-day gap: 110 days", 20, 110},
		{"SUS-2 30-day gap reaches the cap: 120 days", 30, 120},
		{"SUS-2 45-day gap is capped at 120 days", 45, 120},
	} {
		if d := got.Policy.LegacyDataRetention(tc.gap); d != tc.want {
			t.Errorf("%s: retention %d, want %d", tc.name, d, tc.want)
		}
	}
	// The embedded catalog sells legacy offers with Partner Center's 90 and 120.
	def := mustDefault(t)
	if def.Policy.LegacyDataRetentionDays != 90 || def.Policy.LegacyDataRetentionMaxDays != 120 {
		t.Errorf("default policy retention %d, max %d", def.Policy.LegacyDataRetentionDays, def.Policy.LegacyDataRetentionMaxDays)
	}
	for _, id := range []string{"LEGACYO365E3:0001", "LEGACYEXCHP1:0001"} {
		if o, ok := def.Offer(id); !ok || o.CommerceType != CommerceTypeLegacy || o.BillingType != BillingTypeLicense {
			t.Errorf("default catalog legacy offer %s: %+v", id, o)
		}
	}
	// Without legacy offers the policy may be left out (the small catalog).
	if _, err := Parse(encode(t, small())); err != nil {
		t.Fatalf("Parse without legacy offers: %v", err)
	}
}

func TestFreeLicenseOfferIsValid(t *testing.T) {
	c := small()
	o := &c.Offers[0]
	o.Free, o.OnePerCustomer = true, true
	for _, p := range o.Plans {
		for k := range p.Prices {
			p.Prices[k] = 0
		}
	}
	if _, err := Parse(encode(t, c)); err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

// All problems are reported at once, in document order, and the same way
// every time (map iteration order must not leak into the message).
func TestValidationCollectsAllProblemsInOrder(t *testing.T) {
	c := small()
	c.Version = ""
	c.Currencies["EUR"] = Currency{Exponent: 9}
	c.Policy.TaxInclusiveCountries = []string{"au"}
	c.Offers[0].CommerceType = "ea_license"
	c.Offers[0].Plans[0].Prices["USD"] = 0
	c.Offers[0].Plans[0].Prices["JPY"] = 0
	c.Offers[1].MaxQuantity = 5
	b := encode(t, c)
	_, err := Parse(b)
	want := []string{
		`catalog: version: must not be empty`,
		`catalog: currencies["EUR"].exponent: must be 0..4, got 9`,
		`catalog: policy.tax_inclusive_countries[0]: "au" must be an ISO 3166-1 alpha-2 code (2 uppercase letters)`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): commerce_type: commerce type "ea_license" is not supported by this version (supported: ` + strings.Join(CommerceTypes(), ", ") + `)`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[0].prices["EUR"]: missing: every plan must price every catalog currency`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[0].prices["JPY"]: must be > 0`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[0].prices["USD"]: must be > 0`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[1].prices["EUR"]: missing: every plan must price every catalog currency`,
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): plans[2].prices["EUR"]: missing: every plan must price every catalog currency`,
		`catalog: offer "DZH318Z0BPS6:0001" (Azure plan): max_quantity: must be 0 for a usage-based offer, got 5`,
		`catalog: offer "DZH318Z0BPS6:0001" (Azure plan): plans[0].prices["EUR"]: missing: every plan must price every catalog currency`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	for range 20 {
		if _, again := Parse(b); again.Error() != err.Error() {
			t.Fatalf("error text changed between runs:\n%v\n---\n%v", err, again)
		}
	}
}

// Strict decoding: what encoding/json would let through is rejected.
func TestStrictDecoding(t *testing.T) {
	valid := string(encode(t, small()))
	replace := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("test fixture lacks %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	for _, tc := range []struct {
		name string
		in   string
		want string // substring of the error
	}{
		{"unknown top-level field", replace(`{"version"`, `{"owner":"x","version"`), `unknown object member name "owner"`},
		{"unknown offer field", replace(`"name":"Azure plan"`, `"name":"Azure plan","discount":5`), `unknown object member name "discount"`},
		{"unknown plan field", replace(`"term":"P1M"`, `"term":"P1M","promo":"x"`), `unknown object member name "promo"`},
		{"duplicate top-level key", replace(`{"version":"test-1"`, `{"version":"test-1","version":"test-2"`), `duplicate object member name "version"`},
		{"duplicate offer key", replace(`"cancel_window_hours":168`, `"cancel_window_hours":168,"cancel_window_hours":1`), `duplicate object member name "cancel_window_hours"`},
		{"duplicate price key", replace(`"USD":720`, `"USD":720,"USD":1`), `duplicate object member name "USD"`},
		{"case-variant key", replace(`"version"`, `"Version"`), `unknown object member name "Version"`},
		{"case-variant offer key", replace(`"min_quantity"`, `"Min_Quantity"`), `unknown object member name "Min_Quantity"`},
		{"trailing garbage", valid + "x", "after top-level value"},
		{"trailing second object", valid + "{}", "after top-level value"},
		{"string for a number", replace(`"max_quantity":300`, `"max_quantity":"300"`), "max_quantity"},
		{"float price", replace(`"USD":720`, `"USD":7.2`), "USD"},
		{"empty input", "", "EOF"},
		{"not an object", "[]", "array"},
		{"invalid UTF-8", replace(`"Azure plan"`, "\"Azure \xff plan\""), "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse accepted %q", tc.in)
			}
			if c != nil {
				t.Error("Parse returned a catalog with an error")
			}
			if !strings.HasPrefix(err.Error(), "catalog: decode: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to start with %q and contain %q", err, "catalog: decode: ", tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, encode(t, small()), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if _, ok := c.Offer(bbID); !ok || c.Version != "test-1" {
		t.Errorf("Load returned %+v", c)
	}
	if c2, err := LoadOrDefault(good); err != nil || c2.Version != "test-1" {
		t.Errorf("LoadOrDefault(file) = %v, %v", c2, err)
	}
	if c3, err := LoadOrDefault(""); err != nil || c3.Version != mustDefault(t).Version {
		t.Errorf("LoadOrDefault(\"\") = %v, %v", c3, err)
	}

	missing := filepath.Join(dir, "missing.json")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}

	bad := small()
	bad.Offers[0].CancelWindowHours = 0
	badPath := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPath, encode(t, bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(badPath)
	want := "catalog file " + badPath + " is invalid:\n" +
		`catalog: offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic): cancel_window_hours: must be 1..8760, got 0`
	if err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v\nwant %s", err, want)
	}
	if ps := problemsOf(err); len(ps) != 1 || ps[0].Field != "cancel_window_hours" {
		t.Errorf("problems = %v", ps)
	}

	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{"version":"1"} trailing`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(garbage); err == nil || !strings.Contains(err.Error(), garbage) || !strings.Contains(err.Error(), "catalog: decode: ") {
		t.Errorf("Load(garbage) = %v", err)
	}
}
