/// One row of `PS_LibreAcces_Personne_activite`, validated: a person, one of their
/// professions and one activity in it.
///
/// The person's identifiers are parsed (an invalid one refuses the row); an invalid optional
/// identifier (SIRET, SIREN, FINESS, technical id) or an unknown profession code is kept as a
/// ``FlaggedField`` instead; empty fields are nil; codes of open or partly known
/// nomenclatures are kept as text.
public struct DirectoryActivityRecord: Hashable, Sendable {
    /// The 1-based line number in the file.
    public var lineNumber: Int
    /// The person's national identifier (type + identifier).
    public var idNat: IdNat
    /// The identifier type code (TRE_G08): `8` RPPS, `0` ADELI, `1`, `3`, `4`, `5`, `6` staff of a structure.
    public var identifierTypeCode: String
    /// The civil-status title code (`M`, `MME`).
    public var civiliteCode: String?
    /// The title used in practice (TRE_R11, e.g. `DR`).
    public var civiliteExerciceCode: String?
    /// The name the person practises under.
    public var lastName: String
    /// The first name the person practises under (may be empty).
    public var firstName: String
    /// The profession of this exercise (unlisted when the code is unknown, and flagged).
    public var profession: Profession
    /// The professional category code (TRE_R09: `C`, `E`, `F`, `M`).
    public var categoryCode: String?
    /// The savoir-faire type code (TRE_R04, e.g. `S`).
    public var savoirFaireTypeCode: String?
    /// The savoir-faire code (e.g. `SM53`).
    public var savoirFaireCode: String?
    /// The savoir-faire label as published.
    public var savoirFaireLabel: String?
    /// The mode of activity, when the row has an activity.
    public var mode: ModeOfActivity?
    /// The SIRET of the site.
    public var siret: SIRET?
    /// The SIREN of the site.
    public var siren: SIREN?
    /// The FINESS number of the site (*établissement géographique*).
    public var finessSite: FINESS?
    /// The FINESS number of the legal entity (*établissement juridique*).
    public var finessJuridique: FINESS?
    /// The directory's technical structure identifier (`F`+FINESS, `C`+SIRET, `R`...).
    public var technicalStructureID: String?
    /// The site's name (*raison sociale*).
    public var raisonSociale: String?
    /// The site's trade name (*enseigne commerciale*).
    public var enseigne: String?
    /// The site's address.
    public var address: DirectoryAddress
    /// The department of the site, from the department column or else the postal code.
    public var department: DepartmentCode?
    /// The sector of activity code (TRE_R02, e.g. `SA07`).
    public var secteurCode: String?
    /// The registration authority (`CNOM/CNOM/ARS`, `ARS/Variable/Variable`, ...).
    public var autoriteEnregistrement: String?
    /// The site's phone number.
    public var phone: String?
    /// The site's e-mail address.
    public var email: String?
    /// The former structure identifier (*ancien identifiant*, an idNatStruct), as given.
    public var formerStructureID: String?
    /// The function code (TRE_R21), in files that have the column.
    public var fonctionCode: String?
    /// The activity genre code (TRE_R22), in files that have the column.
    public var genreCode: String?
    /// The pharmacists' table section code.
    public var sectionCode: String?
    /// The fields kept though they did not check.
    public var flags: [FlaggedField] = []

    /// The structure's identifier: the FINESS site when there is one, else the SIRET, else
    /// the SIREN, else the directory's technical identifier (the libéral cabinets' `R…`).
    public var structureIdentifier: StructureIdentifier? {
        if let finessSite { return .finess(finessSite) }
        if let siret { return .siret(siret) }
        if let siren { return .siren(siren) }
        if let technicalStructureID { return .technical(technicalStructureID) }
        return nil
    }

    /// The savoir-faire, when the row has one.
    public var savoirFaire: SavoirFaire? {
        guard let savoirFaireTypeCode, let savoirFaireCode else { return nil }
        return SavoirFaire(typeCode: savoirFaireTypeCode, code: savoirFaireCode, label: savoirFaireLabel)
    }

    /// The activity of the row, when it has a mode of activity.
    public var activity: Activity? {
        guard let mode else { return nil }
        return Activity(
            mode: mode, structure: structureIdentifier, structureName: raisonSociale ?? enseigne,
            sectorCode: secteurCode, department: department, address: address.isEmpty ? nil : address.postalAddress,
            fonctionCode: fonctionCode, genreCode: genreCode, sectionCode: sectionCode)
    }
}

/// The address of a site as the extraction file gives it.
public struct DirectoryAddress: Hashable, Sendable {
    /// The recipient complement (*complément destinataire*).
    public var recipientComplement: String?
    /// The geographical complement (building, staircase...).
    public var geographicComplement: String?
    /// The street number.
    public var streetNumber: String?
    /// The repetition index (`B` bis, `T` ter...).
    public var repetitionIndex: String?
    /// The street type code (`R`, `AV`, `FG`...).
    public var streetTypeCode: String?
    /// The street type label (`Rue`, `Avenue`, `Faubourg`...).
    public var streetTypeLabel: String?
    /// The street name.
    public var streetName: String?
    /// The distribution mention (`CS 10329`, `BP 12`...).
    public var distributionMention: String?
    /// The *bureau distributeur* or CEDEX line (`25304 PONTARLIER CEDEX`).
    public var bureauCedex: String?
    /// The postal code.
    public var postalCode: String?
    /// The INSEE code of the commune.
    public var communeCode: String?
    /// The commune's name.
    public var communeName: String?
    /// The INSEE country code (`99100` France).
    public var countryCode: String?

    /// Creates an address; every part is optional.
    public init(
        recipientComplement: String? = nil, geographicComplement: String? = nil, streetNumber: String? = nil,
        repetitionIndex: String? = nil, streetTypeCode: String? = nil, streetTypeLabel: String? = nil,
        streetName: String? = nil, distributionMention: String? = nil, bureauCedex: String? = nil,
        postalCode: String? = nil, communeCode: String? = nil, communeName: String? = nil, countryCode: String? = nil
    ) {
        self.recipientComplement = recipientComplement
        self.geographicComplement = geographicComplement
        self.streetNumber = streetNumber
        self.repetitionIndex = repetitionIndex
        self.streetTypeCode = streetTypeCode
        self.streetTypeLabel = streetTypeLabel
        self.streetName = streetName
        self.distributionMention = distributionMention
        self.bureauCedex = bureauCedex
        self.postalCode = postalCode
        self.communeCode = communeCode
        self.communeName = communeName
        self.countryCode = countryCode
    }

    /// Whether the street, the postal code and the town are all missing.
    public var isEmpty: Bool {
        streetNumber == nil && streetName == nil && postalCode == nil && communeName == nil && bureauCedex == nil
    }

    /// The street line: number, repetition index, street type label and name (`2 Faubourg SAINT ETIENNE`).
    public var streetLine: String? {
        // Built by appending: this runs for every row of an import.
        var line = ""
        func add(_ part: String?, separator: String) {
            guard let part else { return }
            if !line.isEmpty { line += separator }
            line += part
        }
        add(streetNumber, separator: "")
        add(repetitionIndex, separator: "")
        add(streetTypeLabel ?? streetTypeCode, separator: " ")
        add(streetName, separator: " ")
        return line.isEmpty ? nil : line
    }

    /// The address in the registry's short form: street line, postal code and town
    /// (the commune's name, else the *bureau distributeur* without its postal code).
    public var postalAddress: PostalAddress {
        var city = communeName
        if city == nil, let bureauCedex {
            let parts = bureauCedex.split(separator: " ", maxSplits: 1)
            city = parts.count == 2 && parts[0].allSatisfy(\.isNumber) ? String(parts[1]) : bureauCedex
        }
        return PostalAddress(line: streetLine, postalCode: postalCode, city: city)
    }
}
