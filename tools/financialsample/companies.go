package main

// The companies are invented for this sample: names, people, products, places-of-business pairings and numbers
// are fiction, written for this project. Any resemblance to a real issuer is accidental.

type segment struct {
	Name  string
	Share int // % of revenue
	Desc  string
}

type acquisition struct {
	Target, What, Month, Expanded string
	Price                         float64 // $ millions
}

type season struct{ Best, Reason, Weak string }

type lawsuit struct{ Month, Court, Claim string }

// qa is one hand-written question with its answer, about a company-specific passage.
type qa struct{ Q, A string }

type sectorRisk struct {
	Passage string
	QAs     []qa
}

type company struct {
	Name, Short, Ticker, Sector, Industry string
	City, State                           string
	Founded                               int
	Does                                  string
	Segments                              []segment
	Products                              []string
	ProductNoun                           string
	P1Year                                int
	P1Desc                                string
	Rev23, Rev22                          float64 // $ millions
	Driver                                string
	GM23, GM22                            float64
	MarginReason                          string
	Employees, IntlStaffPct, Countries    int
	RnD                                   float64
	RnDFocus                              string
	CustomerNoun, TopCustomer             string
	TopCustomerPct, Top10Pct              int
	Competitors                           []string
	CompeteBasis                          string
	CEO                                   string
	CEOYear                               int
	Input, Supplier                       string
	SupplierPct                           int
	Notes, NotesRate                      float64
	NotesDue                              int
	Revolver                              float64
	RevolverDue                           int
	Dividend                              float64 // quarterly, $ per share; 0 = none
	Buyback                               float64
	BuybackMonth                          string
	Repurchased                           float64 // million shares
	HQSqFt                                int
	HQOwned                               bool
	Sites                                 int
	SiteNoun, SiteRegions                 string
	IntlRevPct                            int
	Regions                               string
	Hazard                                string
	Acq                                   *acquisition
	Season                                *season
	Legal                                 *lawsuit
	Risk                                  sectorRisk
}

var companies = []company{
	{
		Name: "Halvorsen Marine Systems, Inc.", Short: "Halvorsen Marine", Ticker: "HVMS", Sector: "Industrials", Industry: "marine propulsion",
		City: "Tacoma", State: "Washington", Founded: 1961,
		Does: "design, manufacture and service propulsion and power systems for commercial ships, ferries and offshore vessels",
		Segments: []segment{
			{"Propulsion", 58, "sells diesel-electric and hybrid drive trains to shipyards"},
			{"Aftermarket Services", 31, "provides spare parts, overhauls and remote monitoring for an installed base of about 9,400 vessels"},
			{"Energy Storage", 11, "supplies marine battery packs and charging equipment for electric ferries"},
		},
		Products: []string{"Tidewell", "Keelson", "HarborCharge"}, ProductNoun: "marine drive systems", P1Year: 2019,
		P1Desc: "is a hybrid diesel-electric drive that lets harbour ferries run on battery power while docked",
		Rev23:  2847, Rev22: 2512, Driver: "higher deliveries of Tidewell hybrid drives to ferry operators in Northern Europe",
		GM23: 27.4, GM22: 25.9, MarginReason: "a richer mix of aftermarket overhaul work and lower freight costs",
		Employees: 7900, IntlStaffPct: 46, Countries: 14,
		RnD: 118, RnDFocus: "hydrogen-ready engines and battery management software",
		CustomerNoun: "shipyards, ferry operators and offshore service companies", TopCustomer: "Nordfjell Shipbuilding", TopCustomerPct: 12, Top10Pct: 41,
		Competitors: []string{"Brannock Drives", "Osterley Marine Power"}, CompeteBasis: "fuel efficiency, reliability, service coverage and price",
		CEO: "Ingrid Solheim-Parr", CEOYear: 2017,
		Input: "large castings and forgings", Supplier: "Vastmark Foundry", SupplierPct: 38,
		Notes: 600, NotesRate: 4.25, NotesDue: 2029, Revolver: 750, RevolverDue: 2027,
		Dividend: 0.21, Buyback: 250, BuybackMonth: "March", Repurchased: 1.8,
		HQSqFt: 210000, HQOwned: true, Sites: 11, SiteNoun: "manufacturing plants", SiteRegions: "the United States, Norway, South Korea and Brazil",
		IntlRevPct: 63, Regions: "Europe and Asia", Hazard: "coastal flooding",
		Acq: &acquisition{"Lodestar Battery AS", "Norwegian maker of marine lithium-ion battery systems", "June", "Energy Storage segment and our presence in Scandinavia", 184},
		Risk: sectorRisk{
			Passage: "Regulations of the International Maritime Organization limiting sulfur and carbon emissions affect demand for our products. " +
				"Tighter emission limits adopted in 2023 could accelerate orders for hybrid systems, but if shipowners delay fleet renewal while the rules are " +
				"finalised, orders for our conventional diesel drive trains, which were 44% of Propulsion revenue, could decline.",
			QAs: []qa{
				{"How could international shipping emission rules affect Halvorsen Marine?", "Tighter IMO emission limits could speed up hybrid orders but shipowners delaying fleet renewal could reduce orders for conventional diesel drive trains."},
				{"What share of Halvorsen Marine's Propulsion sales come from conventional diesel drive trains?", "Conventional diesel drive trains were 44% of Propulsion revenue."},
			},
		},
	},
	{
		Name: "Brightwater Analytics Corporation", Short: "Brightwater", Ticker: "BWTR", Sector: "Information Technology", Industry: "data analytics software",
		City: "Austin", State: "Texas", Founded: 2009,
		Does: "provide a cloud data platform that helps enterprises combine, govern and analyse their operational data",
		Segments: []segment{
			{"Subscription", 86, "consists of fees for access to the Brightwater Cloud platform, billed annually in advance"},
			{"Professional Services", 14, "consists of implementation, data migration and training engagements"},
		},
		Products: []string{"Brightwater Cloud", "Lakeline", "Sentry Governance"}, ProductNoun: "data platform products", P1Year: 2014,
		P1Desc: "is our core software-as-a-service platform for storing and querying enterprise data",
		Rev23:  1184, Rev22: 957, Driver: "new enterprise customers and expansion of existing subscriptions",
		GM23: 74.8, GM22: 72.1, MarginReason: "lower cloud hosting costs per customer after we renegotiated our infrastructure contracts",
		Employees: 4300, IntlStaffPct: 38, Countries: 11,
		RnD: 342, RnDFocus: "machine learning features, query performance and data governance tools",
		CustomerNoun: "over 3,100 enterprises and public-sector agencies", TopCustomer: "no single customer", TopCustomerPct: 0, Top10Pct: 9,
		Competitors: []string{"Corvane Data", "Meltwater Lakes"}, CompeteBasis: "performance, ease of use, security and total cost of ownership",
		CEO: "Marcus Oyelaran", CEOYear: 2015,
		Input: "cloud infrastructure capacity", Supplier: "Stratus Compute Services", SupplierPct: 71,
		Notes: 1150, NotesRate: 0.0, NotesDue: 2028, Revolver: 400, RevolverDue: 2026,
		Dividend: 0, Buyback: 500, BuybackMonth: "August", Repurchased: 2.4,
		HQSqFt: 180000, HQOwned: false, Sites: 9, SiteNoun: "offices", SiteRegions: "North America, Europe and India",
		IntlRevPct: 29, Regions: "the United Kingdom, Germany and Japan", Hazard: "extreme heat and wildfire",
		Legal: &lawsuit{"October", "United States District Court for the Western District of Texas", "that we made misleading statements about customer growth"},
		Risk: sectorRisk{
			Passage: "Our subscription revenue depends on customers renewing and expanding their contracts. Our dollar-based net retention rate was 118% at the end of fiscal 2023, " +
				"down from 124% a year earlier, as some customers optimised their consumption. If retention continues to fall, revenue growth would slow.",
			QAs: []qa{
				{"What was Brightwater's net retention rate at the end of fiscal 2023?", "Brightwater's dollar-based net retention rate was 118%, down from 124% a year earlier."},
				{"Are Brightwater's existing clients spending more or less over time?", "Existing customers are still expanding: net retention was 118%, though down from 124%."},
			},
		},
	},
	{
		Name: "Corveth Semiconductor Holdings Ltd.", Short: "Corveth", Ticker: "CRVT", Sector: "Information Technology", Industry: "semiconductors",
		City: "San Jose", State: "California", Founded: 1994,
		Does: "design mixed-signal and power-management chips for cars, factory equipment and data-centre servers",
		Segments: []segment{
			{"Automotive", 47, "sells battery-management and motor-control chips to carmakers and their suppliers"},
			{"Industrial", 33, "sells sensor interfaces and isolated power converters for factory automation"},
			{"Data Center", 20, "sells voltage regulators for server processors and accelerators"},
		},
		Products: []string{"VoltEdge", "Ferrolink", "QuietSense"}, ProductNoun: "analog and mixed-signal chips", P1Year: 2018,
		P1Desc: "is a family of multi-phase voltage regulators that feed power to server processors",
		Rev23:  3966, Rev22: 4410, Driver: "lower industrial orders as customers worked down excess inventory",
		GM23: 58.2, GM22: 62.5, MarginReason: "lower factory utilisation and higher wafer prices",
		Employees: 11200, IntlStaffPct: 71, Countries: 19,
		RnD: 702, RnDFocus: "silicon carbide power devices and 48-volt automotive systems",
		CustomerNoun: "automotive suppliers, industrial manufacturers and distributors", TopCustomer: "Arlen Electronics Distribution", TopCustomerPct: 17, Top10Pct: 52,
		Competitors: []string{"Marrow Microdevices", "Teldane Semiconductor"}, CompeteBasis: "performance, power efficiency, product quality and design support",
		CEO: "Priya Venkataraman", CEOYear: 2020,
		Input: "silicon wafers fabricated by third-party foundries", Supplier: "Hsinmei Wafer Foundry", SupplierPct: 64,
		Notes: 2000, NotesRate: 3.1, NotesDue: 2031, Revolver: 1500, RevolverDue: 2028,
		Dividend: 0.62, Buyback: 1500, BuybackMonth: "January", Repurchased: 6.1,
		HQSqFt: 340000, HQOwned: true, Sites: 6, SiteNoun: "test and assembly facilities", SiteRegions: "Malaysia, the Philippines and Texas",
		IntlRevPct: 78, Regions: "China, Japan and Germany", Hazard: "typhoons",
		Season: &season{"fourth", "year-end orders from automotive customers", "the first quarter"},
		Risk: sectorRisk{
			Passage: "Export controls adopted in 2023 restrict sales of certain high-performance power products to customers in some countries. " +
				"These restrictions affected approximately $210 million of Data Center orders in fiscal 2023, and further rules could limit our access to important markets.",
			QAs: []qa{
				{"How much of Corveth's business was affected by export restrictions in 2023?", "About $210 million of Data Center orders were affected by the export controls."},
				{"Which Corveth segment is exposed to export controls?", "The Data Center segment, where restricted high-performance power products are sold."},
			},
		},
	},
	{
		Name: "Larkspur Foods Company", Short: "Larkspur Foods", Ticker: "LKSP", Sector: "Consumer Staples", Industry: "packaged foods",
		City: "Minneapolis", State: "Minnesota", Founded: 1923,
		Does: "make and market breakfast cereals, frozen meals and snack bars sold in grocery and mass-merchandise stores",
		Segments: []segment{
			{"North America Retail", 68, "sells cereals, frozen meals and snacks to grocery chains and club stores"},
			{"Foodservice", 19, "sells single-serve cereals and baked goods to schools, hospitals and restaurants"},
			{"International", 13, "sells our brands in Canada, Mexico and the United Kingdom"},
		},
		Products: []string{"Sunvale", "Hearthside Kitchen", "Trailmix Co."}, ProductNoun: "cereals, frozen meals and snacks", P1Year: 1957,
		P1Desc: "is our best-selling line of whole-grain breakfast cereals",
		Rev23:  6120, Rev22: 5874, Driver: "price increases that offset a small decline in volumes",
		GM23: 33.1, GM22: 31.0, MarginReason: "pricing actions and productivity savings that more than offset higher ingredient costs",
		Employees: 16400, IntlStaffPct: 15, Countries: 4,
		RnD: 71, RnDFocus: "reduced-sugar recipes and recyclable packaging",
		CustomerNoun: "grocery chains, mass merchandisers, club stores and foodservice distributors", TopCustomer: "Greenacre Supermarkets", TopCustomerPct: 21, Top10Pct: 58,
		Competitors: []string{"Pembrook Mills", "Orchard Table Foods"}, CompeteBasis: "brand recognition, taste, price, promotion and shelf placement",
		CEO: "Daniel Okafor-Hill", CEOYear: 2019,
		Input: "oats, wheat and corn", Supplier: "Prairie Grain Cooperative", SupplierPct: 27,
		Notes: 2400, NotesRate: 3.65, NotesDue: 2030, Revolver: 1000, RevolverDue: 2027,
		Dividend: 0.54, Buyback: 800, BuybackMonth: "May", Repurchased: 3.3,
		HQSqFt: 260000, HQOwned: true, Sites: 17, SiteNoun: "food processing plants", SiteRegions: "the Midwest, Ontario and northern Mexico",
		IntlRevPct: 13, Regions: "Canada, Mexico and the United Kingdom", Hazard: "drought and tornadoes",
		Season: &season{"fourth", "holiday baking and snacking", "the third quarter"},
		Risk: sectorRisk{
			Passage: "If our products become contaminated or mislabelled we may need to recall them. In fiscal 2023 we voluntarily recalled about 240,000 cases of Hearthside Kitchen frozen meals " +
				"because of an undeclared allergen, which reduced operating profit by approximately $19 million.",
			QAs: []qa{
				{"Why did Larkspur Foods recall products in 2023?", "It recalled about 240,000 cases of Hearthside Kitchen frozen meals because of an undeclared allergen."},
				{"What did the frozen-meal recall cost Larkspur Foods?", "The recall reduced operating profit by approximately $19 million."},
			},
		},
	},
	{
		Name: "Meridian Rail & Logistics, Inc.", Short: "Meridian Rail", Ticker: "MRLX", Sector: "Industrials", Industry: "freight transportation",
		City: "Kansas City", State: "Missouri", Founded: 1978,
		Does: "operate regional freight railroads, intermodal terminals and a truck brokerage business in the central United States",
		Segments: []segment{
			{"Rail", 61, "hauls grain, chemicals and building materials over 4,800 miles of track"},
			{"Intermodal", 27, "moves shipping containers between ports and inland terminals"},
			{"Brokerage", 12, "arranges truckload shipments using third-party carriers"},
		},
		Products: []string{"Meridian Express", "GrainLink", "PortRunner"}, ProductNoun: "freight services", P1Year: 2016,
		P1Desc: "is a scheduled intermodal service linking Gulf Coast ports with Chicago in under 60 hours",
		Rev23:  3312, Rev22: 3490, Driver: "lower fuel surcharge revenue and weaker truck brokerage volumes",
		GM23: 36.5, GM22: 35.2, MarginReason: "lower diesel prices and improved locomotive productivity",
		Employees: 9100, IntlStaffPct: 3, Countries: 2,
		RnD: 22, RnDFocus: "track inspection technology and fuel-saving train control software",
		CustomerNoun: "agricultural shippers, chemical producers, retailers and ocean carriers", TopCustomer: "Heartland Grain Partners", TopCustomerPct: 9, Top10Pct: 34,
		Competitors: []string{"Great Plains Southern Railway", "Redline Freight"}, CompeteBasis: "price, transit time, reliability and network reach",
		CEO: "Thomas Brackenridge", CEOYear: 2014,
		Input: "diesel fuel", Supplier: "Sable Creek Energy", SupplierPct: 45,
		Notes: 1800, NotesRate: 4.7, NotesDue: 2034, Revolver: 600, RevolverDue: 2026,
		Dividend: 0.39, Buyback: 400, BuybackMonth: "February", Repurchased: 2.0,
		HQSqFt: 150000, HQOwned: true, Sites: 14, SiteNoun: "rail yards and intermodal terminals", SiteRegions: "Missouri, Kansas, Oklahoma and Texas",
		IntlRevPct: 4, Regions: "Mexico", Hazard: "river flooding",
		Legal: &lawsuit{"April", "Circuit Court of Jackson County, Missouri", "damages from a 2022 derailment near Sedalia"},
		Risk: sectorRisk{
			Passage: "Fuel is one of our largest operating expenses, representing about 14% of operating costs in fiscal 2023. We recover most fuel cost changes through surcharges, " +
				"but surcharges lag price movements by about two months, so a sudden rise in diesel prices reduces our margins in the short term.",
			QAs: []qa{
				{"How large is fuel in Meridian Rail's cost base?", "Fuel represented about 14% of Meridian Rail's operating costs in fiscal 2023."},
				{"Why does a jump in diesel prices hurt Meridian Rail in the short term?", "Fuel surcharges lag price movements by about two months, so margins fall until they catch up."},
			},
		},
	},
	{
		Name: "Quillon Therapeutics, Inc.", Short: "Quillon", Ticker: "QLTX", Sector: "Health Care", Industry: "biopharmaceuticals",
		City: "Cambridge", State: "Massachusetts", Founded: 2004,
		Does: "discover, develop and sell medicines for autoimmune and rare kidney diseases",
		Segments: []segment{
			{"Product Sales", 82, "reflects sales of our two approved medicines through specialty pharmacies"},
			{"Collaboration Revenue", 18, "reflects milestone and royalty payments from our partner Enzo Bioscience in Japan"},
		},
		Products: []string{"Renavia", "Quiltamab", "QX-417"}, ProductNoun: "medicines", P1Year: 2020,
		P1Desc: "is an oral treatment for IgA nephropathy, a chronic kidney disease",
		Rev23:  1436, Rev22: 1062, Driver: "growth in Renavia prescriptions following its label expansion",
		GM23: 88.6, GM22: 87.9, MarginReason: "higher production volumes that lowered the cost per dose",
		Employees: 2600, IntlStaffPct: 22, Countries: 6,
		RnD: 611, RnDFocus: "late-stage clinical trials of QX-417 in lupus nephritis",
		CustomerNoun: "specialty pharmacies and distributors", TopCustomer: "CuraPath Specialty Pharmacy", TopCustomerPct: 36, Top10Pct: 94,
		Competitors: []string{"Halden Biologics", "Serapion Pharma"}, CompeteBasis: "efficacy, safety, convenience of dosing and price",
		CEO: "Dr. Elena Marchetti", CEOYear: 2012,
		Input: "active pharmaceutical ingredient for Renavia", Supplier: "Lindqvist Contract Manufacturing", SupplierPct: 100,
		Notes: 750, NotesRate: 2.5, NotesDue: 2027, Revolver: 250, RevolverDue: 2026,
		Dividend: 0, Buyback: 0, BuybackMonth: "", Repurchased: 0,
		HQSqFt: 230000, HQOwned: false, Sites: 3, SiteNoun: "research laboratories", SiteRegions: "Massachusetts, North Carolina and Basel, Switzerland",
		IntlRevPct: 24, Regions: "Europe and Japan", Hazard: "hurricanes",
		Legal: &lawsuit{"September", "United States District Court for the District of Delaware", "that a generic version of Renavia would not infringe our patents"},
		Risk: sectorRisk{
			Passage: "Our revenue depends substantially on Renavia. The principal composition-of-matter patent covering Renavia expires in 2034 in the United States; " +
				"after that, generic manufacturers may enter the market and our sales of Renavia could decline rapidly.",
			QAs: []qa{
				{"When does the main patent on Renavia expire?", "The principal U.S. composition-of-matter patent covering Renavia expires in 2034."},
				{"When could Quillon's lead drug face cheaper copies?", "Generic competition to Renavia could begin after its main U.S. patent expires in 2034."},
			},
		},
	},
	{
		Name: "Ashgrove Home Retail Corp.", Short: "Ashgrove", Ticker: "AGHR", Sector: "Consumer Discretionary", Industry: "home furnishings retail",
		City: "Charlotte", State: "North Carolina", Founded: 1986,
		Does: "sell furniture, mattresses and home décor through large-format stores and our e-commerce site",
		Segments: []segment{
			{"Stores", 71, "operates showrooms averaging 42,000 square feet in suburban shopping centres"},
			{"Digital", 29, "sells through ashgrovehome.example and our mobile app, with delivery from regional distribution centres"},
		},
		Products: []string{"Ashgrove Studio", "Restwell", "Fernleigh"}, ProductNoun: "home furnishings", P1Year: 2012,
		P1Desc: "is our private-label furniture collection designed in-house",
		Rev23:  4385, Rev22: 4712, Driver: "fewer store transactions as higher mortgage rates slowed home sales",
		GM23: 38.9, GM22: 41.3, MarginReason: "heavier clearance markdowns and higher delivery costs",
		Employees: 21500, IntlStaffPct: 0, Countries: 1,
		RnD: 0, RnDFocus: "",
		CustomerNoun: "homeowners and renters", TopCustomer: "no single customer", TopCustomerPct: 0, Top10Pct: 0,
		Competitors: []string{"Wrenfield Living", "Casa Morrow"}, CompeteBasis: "price, selection, delivery speed and in-store experience",
		CEO: "Rebecca Lindgren", CEOYear: 2021,
		Input: "upholstered furniture made in Vietnam", Supplier: "Dong Nai Woodcraft", SupplierPct: 22,
		Notes: 900, NotesRate: 5.9, NotesDue: 2028, Revolver: 1200, RevolverDue: 2027,
		Dividend: 0.30, Buyback: 300, BuybackMonth: "April", Repurchased: 4.2,
		HQSqFt: 120000, HQOwned: false, Sites: 268, SiteNoun: "stores", SiteRegions: "38 states",
		IntlRevPct: 0, Regions: "", Hazard: "hurricanes",
		Season: &season{"fourth", "holiday promotions and year-end furniture events", "the second quarter"},
		Risk: sectorRisk{
			Passage: "Inventory shrink, which includes theft, damage and administrative errors, rose to 1.9% of net sales in fiscal 2023 from 1.4% in fiscal 2022. " +
				"We have added security staff and locked displays in affected stores, but continued high shrink would hurt our margins.",
			QAs: []qa{
				{"What was Ashgrove's inventory shrink rate in fiscal 2023?", "Shrink rose to 1.9% of net sales in fiscal 2023 from 1.4% a year earlier."},
				{"How much merchandise did Ashgrove lose to theft and damage?", "Inventory shrink, including theft and damage, was 1.9% of net sales in fiscal 2023."},
			},
		},
	},
	{
		Name: "Tessaly Energy Partners, Inc.", Short: "Tessaly Energy", Ticker: "TSLY", Sector: "Utilities", Industry: "renewable power",
		City: "Denver", State: "Colorado", Founded: 2007,
		Does: "develop, own and operate wind, solar and battery storage projects that sell electricity under long-term contracts",
		Segments: []segment{
			{"Wind", 49, "owns 31 wind farms with 4.1 gigawatts of capacity"},
			{"Solar", 38, "owns utility-scale solar farms in the Southwest"},
			{"Storage", 13, "owns grid batteries that sell capacity and frequency services"},
		},
		Products: []string{"Mesa Verde Wind", "Sundial Ranch Solar", "GridVault"}, ProductNoun: "renewable power projects", P1Year: 2015,
		P1Desc: "is our largest wind farm, with 620 megawatts in eastern Colorado",
		Rev23:  2105, Rev22: 1788, Driver: "new solar and storage projects placed in service",
		GM23: 61.0, GM22: 59.4, MarginReason: "higher output from new projects with low operating costs",
		Employees: 1900, IntlStaffPct: 0, Countries: 1,
		RnD: 15, RnDFocus: "battery dispatch optimisation software",
		CustomerNoun: "utilities, municipal power agencies and corporate buyers", TopCustomer: "Rocky Range Power Cooperative", TopCustomerPct: 19, Top10Pct: 73,
		Competitors: []string{"Bluestem Renewables", "Altamira Power"}, CompeteBasis: "cost of energy, interconnection access and project financing",
		CEO: "Luis Caldera", CEOYear: 2016,
		Input: "solar modules", Supplier: "Everbright Photovoltaic", SupplierPct: 55,
		Notes: 3100, NotesRate: 5.25, NotesDue: 2033, Revolver: 1250, RevolverDue: 2028,
		Dividend: 0.44, Buyback: 0, BuybackMonth: "", Repurchased: 0,
		HQSqFt: 90000, HQOwned: false, Sites: 58, SiteNoun: "generating projects", SiteRegions: "12 western and midwestern states",
		IntlRevPct: 0, Regions: "", Hazard: "hail and wildfire",
		Acq:    &acquisition{"Copperline Storage LLC", "developer of grid-scale battery projects in Arizona", "November", "storage pipeline by 1.2 gigawatts", 265},
		Season: &season{"second", "strong spring winds and long days for solar output", "the fourth quarter"},
		Risk: sectorRisk{
			Passage: "The economics of our projects depend on federal production and investment tax credits. We had 1.6 gigawatts of projects under construction at year-end; " +
				"changes to the credits or their transferability could reduce the returns on these projects and our ability to finance them.",
			QAs: []qa{
				{"How much capacity did Tessaly Energy have under construction at year-end?", "Tessaly Energy had 1.6 gigawatts of projects under construction."},
				{"Why do federal tax credits matter to Tessaly Energy?", "Project economics depend on the production and investment tax credits; changes could reduce returns and financing."},
			},
		},
	},
	{
		Name: "Ombra Apparel Group, Inc.", Short: "Ombra", Ticker: "OMBR", Sector: "Consumer Discretionary", Industry: "apparel and footwear",
		City: "Portland", State: "Oregon", Founded: 1999,
		Does: "design and sell outdoor apparel, footwear and accessories under our own brands",
		Segments: []segment{
			{"Wholesale", 54, "sells to sporting goods chains, department stores and specialty outdoor shops"},
			{"Direct-to-Consumer", 46, "sells through our 141 brand stores and our websites"},
		},
		Products: []string{"Ombra Trail", "Northpeak", "Driftwool"}, ProductNoun: "outdoor apparel and footwear", P1Year: 2008,
		P1Desc: "is our line of waterproof hiking boots and trail running shoes",
		Rev23:  2690, Rev22: 2555, Driver: "growth in direct-to-consumer sales and Northpeak outerwear",
		GM23: 52.3, GM22: 50.8, MarginReason: "lower ocean freight rates and a higher share of full-price sales",
		Employees: 6800, IntlStaffPct: 31, Countries: 9,
		RnD: 48, RnDFocus: "recycled insulation materials and footwear cushioning",
		CustomerNoun: "sporting goods chains, department stores and individual consumers", TopCustomer: "Summit & Stream Outfitters", TopCustomerPct: 11, Top10Pct: 33,
		Competitors: []string{"Kinloch Outdoor", "Ridgeway Supply Co."}, CompeteBasis: "brand image, product performance, design and price",
		CEO: "Hannah Whitcombe", CEOYear: 2018,
		Input: "finished garments and footwear made by contract factories", Supplier: "Saigon Summit Garment", SupplierPct: 18,
		Notes: 500, NotesRate: 4.0, NotesDue: 2030, Revolver: 500, RevolverDue: 2027,
		Dividend: 0.25, Buyback: 200, BuybackMonth: "July", Repurchased: 1.1,
		HQSqFt: 160000, HQOwned: true, Sites: 141, SiteNoun: "brand stores", SiteRegions: "North America, Europe and Japan",
		IntlRevPct: 37, Regions: "Europe and Japan", Hazard: "wildfire smoke",
		Season: &season{"fourth", "cold-weather outerwear and holiday gifting", "the second quarter"},
		Risk: sectorRisk{
			Passage: "Substantially all of our products are made by independent factories in Asia, principally Vietnam, Indonesia and Cambodia. " +
				"New tariffs on imports from these countries, or a shift in trade policy, could raise our product costs; about 61% of our units came from Vietnam in fiscal 2023.",
			QAs: []qa{
				{"Where does Ombra source its products?", "From independent factories in Asia, principally Vietnam, Indonesia and Cambodia."},
				{"How much of Ombra's production comes from Vietnam?", "About 61% of Ombra's units were made in Vietnam in fiscal 2023."},
			},
		},
	},
	{
		Name: "Pellucid Medical Devices Corporation", Short: "Pellucid Medical", Ticker: "PLMD", Sector: "Health Care", Industry: "medical devices",
		City: "Irvine", State: "California", Founded: 1991,
		Does: "develop and manufacture devices for minimally invasive heart and vascular procedures",
		Segments: []segment{
			{"Structural Heart", 52, "sells transcatheter valve repair systems"},
			{"Vascular", 35, "sells stents, balloons and embolic protection devices"},
			{"Monitoring", 13, "sells implantable and wearable cardiac monitors"},
		},
		Products: []string{"ClearValve", "Arterra", "PulseTrace"}, ProductNoun: "cardiovascular devices", P1Year: 2017,
		P1Desc: "is a catheter-delivered system that repairs a leaking mitral valve without open-heart surgery",
		Rev23:  3540, Rev22: 3188, Driver: "strong ClearValve procedure growth in the United States and Europe",
		GM23: 69.7, GM22: 68.8, MarginReason: "manufacturing efficiencies at our Costa Rica plant",
		Employees: 12800, IntlStaffPct: 48, Countries: 16,
		RnD: 498, RnDFocus: "next-generation valve systems and remote monitoring algorithms",
		CustomerNoun: "hospitals, cardiology practices and group purchasing organizations", TopCustomer: "no single customer", TopCustomerPct: 0, Top10Pct: 21,
		Competitors: []string{"Vantage Cardio", "Helmsley Surgical"}, CompeteBasis: "clinical outcomes, physician preference, product innovation and price",
		CEO: "Dr. Samuel Achterberg", CEOYear: 2013,
		Input: "nitinol wire and bovine tissue", Supplier: "Alderwick Alloys", SupplierPct: 58,
		Notes: 1500, NotesRate: 3.4, NotesDue: 2032, Revolver: 1000, RevolverDue: 2028,
		Dividend: 0, Buyback: 750, BuybackMonth: "October", Repurchased: 2.7,
		HQSqFt: 300000, HQOwned: true, Sites: 7, SiteNoun: "manufacturing facilities", SiteRegions: "California, Minnesota, Costa Rica and Ireland",
		IntlRevPct: 44, Regions: "Europe and Japan", Hazard: "earthquakes",
		Acq: &acquisition{"Tremont Cardiac Imaging", "private developer of intracardiac ultrasound catheters", "February", "Structural Heart portfolio with imaging tools", 410},
		Risk: sectorRisk{
			Passage: "Our products are regulated by the FDA and comparable authorities abroad. In fiscal 2023 we received FDA approval for the second generation of ClearValve; " +
				"a delay in approvals for new products, or a recall of an existing one, could harm our business.",
			QAs: []qa{
				{"Which Pellucid Medical product received FDA approval in fiscal 2023?", "The second generation of the ClearValve system was approved by the FDA in fiscal 2023."},
				{"What regulatory milestone did Pellucid Medical reach in 2023?", "It obtained FDA approval for the second-generation ClearValve."},
			},
		},
	},
	{
		Name: "Kestrel Aerospace Components, Inc.", Short: "Kestrel Aerospace", Ticker: "KSTL", Sector: "Industrials", Industry: "aerospace components",
		City: "Wichita", State: "Kansas", Founded: 1952,
		Does: "manufacture engine components, landing-gear parts and cabin systems for commercial and military aircraft",
		Segments: []segment{
			{"Engine Components", 44, "machines turbine blades, shafts and housings for engine makers"},
			{"Structures", 36, "builds landing-gear assemblies and wing components"},
			{"Cabin Systems", 20, "makes seating frames, galleys and lighting for airline interiors"},
		},
		Products: []string{"AeroForge", "Stratline Galley", "Kestrel LG-7"}, ProductNoun: "aircraft components", P1Year: 2011,
		P1Desc: "is our process for forging single-crystal turbine blades",
		Rev23:  2318, Rev22: 1944, Driver: "higher narrow-body aircraft production rates and aftermarket demand",
		GM23: 24.6, GM22: 22.9, MarginReason: "better absorption of fixed costs at higher production volumes",
		Employees: 8700, IntlStaffPct: 19, Countries: 5,
		RnD: 64, RnDFocus: "additive manufacturing of titanium parts",
		CustomerNoun: "aircraft and engine manufacturers, airlines and defence agencies", TopCustomer: "Corvair Aircraft Company", TopCustomerPct: 29, Top10Pct: 77,
		Competitors: []string{"Westover Precision", "Talbot Aerostructures"}, CompeteBasis: "quality, on-time delivery, engineering capability and price",
		CEO: "Robert Haldane", CEOYear: 2016,
		Input: "titanium and nickel alloys", Supplier: "Greyhaven Metals", SupplierPct: 41,
		Notes: 850, NotesRate: 6.1, NotesDue: 2029, Revolver: 500, RevolverDue: 2026,
		Dividend: 0.12, Buyback: 150, BuybackMonth: "September", Repurchased: 0.9,
		HQSqFt: 410000, HQOwned: true, Sites: 12, SiteNoun: "machining plants", SiteRegions: "Kansas, Ohio, Mexico and Poland",
		IntlRevPct: 26, Regions: "Europe and Canada", Hazard: "tornadoes",
		Risk: sectorRisk{
			Passage: "Our contract backlog was $5.8 billion at the end of fiscal 2023, up from $4.9 billion a year earlier. Customers may cancel or defer orders, " +
				"and delays in the certification of new aircraft programmes by aviation authorities could postpone deliveries included in our backlog.",
			QAs: []qa{
				{"What was Kestrel Aerospace's backlog at the end of fiscal 2023?", "The contract backlog was $5.8 billion, up from $4.9 billion a year earlier."},
				{"How much future work has Kestrel Aerospace already booked?", "Kestrel Aerospace's order backlog stood at $5.8 billion at the end of fiscal 2023."},
			},
		},
	},
	{
		Name: "Vantor Payments, Inc.", Short: "Vantor", Ticker: "VNTR", Sector: "Financials", Industry: "payment processing",
		City: "Atlanta", State: "Georgia", Founded: 2011,
		Does: "process card and bank payments for small and mid-sized merchants and provide point-of-sale software",
		Segments: []segment{
			{"Merchant Solutions", 73, "earns fees on card transactions processed for merchants"},
			{"Software", 27, "sells point-of-sale and invoicing software subscriptions"},
		},
		Products: []string{"Vantor Terminal", "TillWise", "Vantor Pay Later"}, ProductNoun: "payment and commerce software", P1Year: 2017,
		P1Desc: "is a cloud point-of-sale system for restaurants and retail shops",
		Rev23:  1962, Rev22: 1651, Driver: "higher payment volume from new merchants and TillWise subscriptions",
		GM23: 55.4, GM22: 54.0, MarginReason: "a greater share of higher-margin software revenue",
		Employees: 5200, IntlStaffPct: 12, Countries: 3,
		RnD: 187, RnDFocus: "fraud detection models and real-time bank payments",
		CustomerNoun: "about 410,000 small and mid-sized merchants", TopCustomer: "no single customer", TopCustomerPct: 0, Top10Pct: 6,
		Competitors: []string{"Lumen Merchant Services", "Paxton Commerce"}, CompeteBasis: "pricing, ease of onboarding, software features and customer support",
		CEO: "Aisha Ramaswamy", CEOYear: 2019,
		Input: "card network access and sponsor bank services", Supplier: "Peachtree Commerce Bank", SupplierPct: 80,
		Notes: 1000, NotesRate: 4.9, NotesDue: 2030, Revolver: 750, RevolverDue: 2027,
		Dividend: 0, Buyback: 400, BuybackMonth: "November", Repurchased: 3.6,
		HQSqFt: 200000, HQOwned: false, Sites: 8, SiteNoun: "offices and support centres", SiteRegions: "Georgia, Arizona, Ontario and Dublin, Ireland",
		IntlRevPct: 9, Regions: "Canada and Ireland", Hazard: "hurricanes",
		Legal: &lawsuit{"June", "Superior Court of Fulton County, Georgia", "that our merchant contracts contained undisclosed early termination fees"},
		Risk: sectorRisk{
			Passage: "We are licensed as a money transmitter in 47 states and must comply with anti-money-laundering and card network rules. " +
				"Changes to the regulation of interchange fees, or the loss of a licence, could reduce our revenue or restrict the services we offer.",
			QAs: []qa{
				{"In how many states is Vantor licensed as a money transmitter?", "Vantor holds money transmitter licences in 47 states."},
				{"What regulatory approvals does Vantor need to move customers' money?", "It needs money transmitter licences (held in 47 states) and must follow anti-money-laundering and card network rules."},
			},
		},
	},
	{
		Name: "Fenwick Hollow Brewing Company", Short: "Fenwick Hollow", Ticker: "FHBC", Sector: "Consumer Staples", Industry: "beverages",
		City: "Milwaukee", State: "Wisconsin", Founded: 1889,
		Does: "brew and sell beer, hard seltzer and non-alcoholic drinks through independent distributors",
		Segments: []segment{
			{"Beer", 66, "includes our flagship lagers and seasonal ales"},
			{"Beyond Beer", 34, "includes hard seltzers, canned cocktails and non-alcoholic beverages"},
		},
		Products: []string{"Fenwick Lager", "Hollow Point IPA", "Brightfizz Seltzer"}, ProductNoun: "beers and flavoured beverages", P1Year: 1902,
		P1Desc: "is our flagship pale lager and our largest brand by volume",
		Rev23:  1748, Rev22: 1802, Driver: "lower beer shipments partly offset by growth in Brightfizz Seltzer",
		GM23: 39.8, GM22: 40.6, MarginReason: "higher aluminium can and barley costs",
		Employees: 3600, IntlStaffPct: 5, Countries: 2,
		RnD: 12, RnDFocus: "low-calorie and non-alcoholic recipes",
		CustomerNoun: "about 460 independent beer distributors", TopCustomer: "Lakeshore Beverage Distributors", TopCustomerPct: 8, Top10Pct: 31,
		Competitors: []string{"Castlebrook Brewers", "Riverbend Beverage Co."}, CompeteBasis: "brand strength, price, distribution reach and innovation",
		CEO: "Margaret Kowalczyk", CEOYear: 2020,
		Input: "aluminium cans", Supplier: "Great Lakes Container", SupplierPct: 67,
		Notes: 400, NotesRate: 3.8, NotesDue: 2029, Revolver: 300, RevolverDue: 2026,
		Dividend: 0.18, Buyback: 100, BuybackMonth: "June", Repurchased: 0.5,
		HQSqFt: 95000, HQOwned: true, Sites: 4, SiteNoun: "breweries", SiteRegions: "Wisconsin, Colorado and Pennsylvania",
		IntlRevPct: 5, Regions: "Canada", Hazard: "drought",
		Season: &season{"second and third", "warm-weather demand for beer and seltzer", "the first quarter"},
		Risk: sectorRisk{
			Passage: "Federal and state excise taxes on alcoholic beverages were about $118 million in fiscal 2023 and are reported as a reduction of gross sales. " +
				"An increase in these taxes, or new restrictions on alcohol advertising, could reduce demand for our products.",
			QAs: []qa{
				{"How much did Fenwick Hollow pay in excise taxes in fiscal 2023?", "Federal and state excise taxes were about $118 million in fiscal 2023."},
				{"What alcohol duties does Fenwick Hollow bear?", "It pays federal and state excise taxes on alcoholic beverages, about $118 million in fiscal 2023."},
			},
		},
	},
	{
		Name: "Sorrel Cloud Networks, Inc.", Short: "Sorrel Cloud", Ticker: "SRCL", Sector: "Information Technology", Industry: "cloud infrastructure",
		City: "Reston", State: "Virginia", Founded: 2013,
		Does: "operate data centres and a private network that connect enterprises to public clouds",
		Segments: []segment{
			{"Colocation", 57, "leases space, power and cooling in our data centres"},
			{"Interconnection", 29, "sells private connections between customers, networks and cloud providers"},
			{"Managed Services", 14, "operates servers and networks on behalf of customers"},
		},
		Products: []string{"SorrelLink", "Canopy Edge", "Sorrel Vault"}, ProductNoun: "data centre and network services", P1Year: 2016,
		P1Desc: "is a software-defined service that provisions private links to cloud providers in minutes",
		Rev23:  1577, Rev22: 1295, Driver: "new capacity leased to artificial intelligence and cloud customers",
		GM23: 47.2, GM22: 49.0, MarginReason: "higher electricity prices in our Northern Virginia campuses",
		Employees: 2900, IntlStaffPct: 34, Countries: 8,
		RnD: 96, RnDFocus: "network automation software and liquid cooling designs",
		CustomerNoun: "enterprises, cloud providers and network carriers", TopCustomer: "Halcyon Cloud Services", TopCustomerPct: 14, Top10Pct: 47,
		Competitors: []string{"Tristar Data Centers", "Norvale Interconnect"}, CompeteBasis: "location, power availability, network density and price",
		CEO: "Kenji Abernathy", CEOYear: 2018,
		Input: "electric power", Supplier: "Dominion Ridge Electric", SupplierPct: 52,
		Notes: 2700, NotesRate: 5.5, NotesDue: 2032, Revolver: 1500, RevolverDue: 2028,
		Dividend: 0, Buyback: 0, BuybackMonth: "", Repurchased: 0,
		HQSqFt: 85000, HQOwned: false, Sites: 26, SiteNoun: "data centres", SiteRegions: "North America, Europe and Singapore",
		IntlRevPct: 31, Regions: "Europe and Singapore", Hazard: "extreme heat",
		Acq: &acquisition{"Fjordgate Data AS", "operator of two data centres near Oslo", "March", "European footprint with low-carbon hydroelectric power", 338},
		Risk: sectorRisk{
			Passage: "Our growth depends on obtaining electric power for new data centres. We had 410 megawatts of additional capacity under contract with utilities at year-end, " +
				"but utilities in several markets have delayed new connections by up to three years, which could slow our expansion.",
			QAs: []qa{
				{"How much additional power capacity has Sorrel Cloud secured from utilities?", "Sorrel Cloud had 410 megawatts of additional capacity under contract with utilities."},
				{"What could slow Sorrel Cloud's expansion?", "Utilities delaying new power connections by up to three years could slow its expansion."},
			},
		},
	},
}
