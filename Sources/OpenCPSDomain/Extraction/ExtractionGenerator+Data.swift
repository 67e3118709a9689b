/// Reference data for synthetic extraction files: names, towns, streets.
extension ExtractionGenerator {
    /// A town: postal code, INSEE commune code, name and department.
    struct Town {
        let postalCode: String
        let communeCode: String
        let name: String
        let department: DepartmentCode

        init(_ postalCode: String, _ communeCode: String, _ name: String, _ department: String) {
            self.postalCode = postalCode
            self.communeCode = communeCode
            self.name = name
            self.department = try! DepartmentCode(department)
        }
    }

    static let towns: [Town] = [
        Town("75005", "75105", "Paris", "75"), Town("75013", "75113", "Paris", "75"), Town("75015", "75115", "Paris", "75"),
        Town("75018", "75118", "Paris", "75"), Town("13005", "13205", "Marseille", "13"), Town("13008", "13208", "Marseille", "13"),
        Town("69003", "69383", "Lyon", "69"), Town("69100", "69266", "Villeurbanne", "69"), Town("31000", "31555", "Toulouse", "31"),
        Town("06000", "06088", "Nice", "06"), Town("44000", "44109", "Nantes", "44"), Town("67000", "67482", "Strasbourg", "67"),
        Town("68100", "68224", "Mulhouse", "68"), Town("57000", "57463", "Metz", "57"), Town("34000", "34172", "Montpellier", "34"),
        Town("33000", "33063", "Bordeaux", "33"), Town("59000", "59350", "Lille", "59"), Town("35000", "35238", "Rennes", "35"),
        Town("51100", "51454", "Reims", "51"), Town("76600", "76351", "Le Havre", "76"), Town("42000", "42218", "Saint-Étienne", "42"),
        Town("83000", "83137", "Toulon", "83"), Town("38000", "38185", "Grenoble", "38"), Town("21000", "21231", "Dijon", "21"),
        Town("49000", "49007", "Angers", "49"), Town("30000", "30189", "Nîmes", "30"), Town("63000", "63113", "Clermont-Ferrand", "63"),
        Town("72000", "72181", "Le Mans", "72"), Town("13100", "13001", "Aix-en-Provence", "13"), Town("29200", "29019", "Brest", "29"),
        Town("37000", "37261", "Tours", "37"), Town("80000", "80021", "Amiens", "80"), Town("87000", "87085", "Limoges", "87"),
        Town("74000", "74010", "Annecy", "74"), Town("66000", "66136", "Perpignan", "66"), Town("25000", "25056", "Besançon", "25"),
        Town("25300", "25462", "Pontarlier", "25"), Town("45000", "45234", "Orléans", "45"), Town("76000", "76540", "Rouen", "76"),
        Town("14000", "14118", "Caen", "14"), Town("54000", "54395", "Nancy", "54"), Town("86000", "86194", "Poitiers", "86"),
        Town("64000", "64445", "Pau", "64"), Town("17000", "17300", "La Rochelle", "17"), Town("84000", "84007", "Avignon", "84"),
        Town("26000", "26362", "Valence", "26"), Town("73000", "73065", "Chambéry", "73"), Town("56000", "56260", "Vannes", "56"),
        Town("10000", "10387", "Troyes", "10"), Town("90000", "90010", "Belfort", "90"), Town("93200", "93066", "Saint-Denis", "93"),
        Town("92100", "92012", "Boulogne-Billancourt", "92"), Town("94000", "94028", "Créteil", "94"), Town("78000", "78646", "Versailles", "78"),
        Town("20000", "2A004", "Ajaccio", "2A"), Town("20137", "2A247", "Porto-Vecchio", "2A"), Town("20200", "2B033", "Bastia", "2B"),
        Town("20250", "2B096", "Corte", "2B"), Town("97110", "97120", "Pointe-à-Pitre", "971"), Town("97200", "97209", "Fort-de-France", "972"),
        Town("97300", "97302", "Cayenne", "973"), Town("97400", "97411", "Saint-Denis", "974"), Town("97500", "97502", "Saint-Pierre", "975"),
        Town("97600", "97611", "Mamoudzou", "976"),
    ]

    static let maleFirstNames: [String] = [
        "JEAN", "PIERRE", "MICHEL", "ANDRÉ", "PHILIPPE", "ALAIN", "BERNARD", "JACQUES", "FRANÇOIS", "CHRISTIAN",
        "DANIEL", "PATRICK", "NICOLAS", "DAVID", "ÉRIC", "FRÉDÉRIC", "LAURENT", "STÉPHANE", "OLIVIER", "THOMAS",
        "JULIEN", "SÉBASTIEN", "CHRISTOPHE", "PASCAL", "THIERRY", "GÉRARD", "DIDIER", "VINCENT", "ANTOINE", "MAXIME",
        "ALEXANDRE", "GUILLAUME", "ROMAIN", "LUCAS", "HUGO", "LOUIS", "PAUL", "ARTHUR", "LÉO", "GABRIEL",
        "RAPHAËL", "MATHIS", "CLÉMENT", "BENOÎT", "YANNICK", "JÉRÔME", "FABRICE", "ARNAUD", "CÉDRIC", "JEAN-PIERRE",
    ]

    static let femaleFirstNames: [String] = [
        "MARIE", "NATHALIE", "ISABELLE", "SYLVIE", "CATHERINE", "FRANÇOISE", "CHRISTINE", "MONIQUE", "VALÉRIE", "SANDRINE",
        "STÉPHANIE", "CÉLINE", "SOPHIE", "VÉRONIQUE", "JULIE", "AURÉLIE", "CAROLINE", "CAMILLE", "LAURA", "MANON",
        "ÉMILIE", "CHLOÉ", "LÉA", "EMMA", "INÈS", "JADE", "LOUISE", "ALICE", "CLARA", "SARAH",
        "ANNE", "HÉLÈNE", "CLAIRE", "AGNÈS", "BRIGITTE", "MARTINE", "NICOLE", "PASCALE", "DELPHINE", "ÉLODIE",
        "PAULINE", "MARION", "AMÉLIE", "MÉLANIE", "ANAÏS", "OCÉANE", "MATHILDE", "JUSTINE", "MARIE-CHRISTINE", "ZOÉ",
    ]

    static let lastNames: [String] = [
        "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
        "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
        "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEBVRE", "FAURE", "ANDRÉ",
        "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA",
        "PERRIN", "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
        "MARCHAND", "DUVAL", "DENIS", "DUMONT", "MARIE", "LEMAIRE", "NOËL", "MEYER", "DUFOUR", "MEUNIER",
        "BRUN", "BLANCHARD", "GIRAUD", "JOLY", "RIVIÈRE", "LUCAS", "BRUNET", "GAILLARD", "BARBIER", "ARNAUD",
        "MARTINEZ", "GÉRARD", "ROCHE", "RENARD", "SCHMITT", "ROY", "LEROUX", "COLIN", "VIDAL", "CARON",
        "PICARD", "ROGER", "FABRE", "AUBERT", "LEMOINE", "RENAUD", "DUMAS", "LACROIX", "OLIVIER", "PHILIPPE",
        "BOURGEOIS", "PIERRE", "BENOÎT", "REY", "LECLERC", "PAYET", "ROLLAND", "LECLERCQ", "GUILLAUME", "LECOMTE",
        "SANTONI", "CASANOVA", "D'ALMEIDA", "LE GALL", "N'DIAYE",
    ]

    static let streetTypes: [(code: String, label: String)] = [
        ("R", "Rue"), ("R", "Rue"), ("R", "Rue"), ("AV", "Avenue"), ("AV", "Avenue"), ("BD", "Boulevard"), ("PL", "Place"),
        ("CHE", "Chemin"), ("RTE", "Route"), ("ALL", "Allée"), ("IMP", "Impasse"), ("FG", "Faubourg"), ("QUAI", "Quai"),
    ]

    static let streetNames: [String] = [
        "DE LA RÉPUBLIQUE", "VICTOR HUGO", "JEAN JAURÈS", "DU GÉNÉRAL DE GAULLE", "PASTEUR", "DE LA GARE", "DES ÉCOLES",
        "GAMBETTA", "DU MARÉCHAL FOCH", "NATIONALE", "DE LA LIBÉRATION", "JULES FERRY", "DE L'ÉGLISE", "DU MOULIN",
        "DES LILAS", "SAINT ÉTIENNE", "DE PARIS", "CLEMENCEAU", "DE VERDUN", "DE LA PAIX", "DES TILLEULS", "DU 8 MAI 1945",
        "ARISTIDE BRIAND", "CARNOT", "LOUIS PASTEUR", "DE LA MAIRIE", "DU STADE", "DES PRÉS", "DU CHÂTEAU", "SADI CARNOT",
    ]
}
