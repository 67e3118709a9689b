import OpenCPSDomain
import OpenCPSServices

/// Turns registry records into the directory's FHIR resources, as the national directory
/// shows them (REFERENCE.md §4, §6; the IG's `as-dp-*` profiles): identifier systems and
/// types, NOS code systems, the slices of `qualification`, `code` and `type`.
enum FHIRMapping {
    /// A Practitioner: identifiers, name, a qualification per profession (TRE_G15/R95 and
    /// TRE_R09) and per savoir-faire (TRE_R04 and the type's code system), and an
    /// `as-ext-smartcard` extension per card made for the person.
    static func practitioner(_ stored: StoredProfessional, cards: [DirectoryCard] = []) -> FHIRPractitioner {
        let professional = stored.professional
        var identifiers = [
            identifier(type: "IDNPS", system: FHIRSystem.idNatPS, value: professional.idNat.value),
        ]
        switch professional.idNat {
        case .rpps(let rpps):
            identifiers.append(identifier(type: "RPPS", system: FHIRSystem.rpps, value: rpps.value))
        case .adeli(let adeli):
            identifiers.append(identifier(type: "ADELI", system: FHIRSystem.adeli, value: adeli.value))
        case .establishmentStaff, .structureStaff:
            // Staff identifiers carry their TRE_G08 type (1, 3, 4, 5, 6), as the IG's profile says.
            identifiers.append(FHIRIdentifierValue(
                use: "official",
                type: FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.personIdentifierTypeG08, code: professional.idNat.typeCode)]),
                system: FHIRSystem.idNatPS, value: professional.idNat.value))
        }
        let suffix = professional.exercises.compactMap(\.civiliteExercice).first
        let name = FHIRHumanName(
            use: "usual", family: professional.lastName, given: professional.firstName.isEmpty ? nil : [professional.firstName],
            prefix: professional.civilite.map { [$0] }, suffix: suffix.map { [$0] })
        var qualifications: [FHIRQualification] = []
        for exercise in professional.exercises {
            qualifications.append(FHIRQualification(code: FHIRCodeableConcept(coding: [
                FHIRCoding(
                    system: exercise.profession.codeSystem == .r95UsagerTitre ? FHIRSystem.usagerTitreR95 : FHIRSystem.professionG15,
                    code: exercise.profession.code, display: exercise.profession.isListed ? exercise.profession.label : nil),
                FHIRCoding(system: FHIRSystem.categoryR09, code: exercise.categoryCode),
            ])))
            if let savoirFaire = exercise.savoirFaire {
                var coding: [FHIRCoding] = []
                if !savoirFaire.typeCode.isEmpty {
                    coding.append(FHIRCoding(system: FHIRSystem.savoirFaireTypeR04, code: savoirFaire.typeCode))
                }
                if let system = FHIRSystem.savoirFaireSystem(type: savoirFaire.typeCode) {
                    coding.append(FHIRCoding(system: system, code: savoirFaire.code, display: savoirFaire.label))
                }
                if !coding.isEmpty { qualifications.append(FHIRQualification(code: FHIRCodeableConcept(coding: coding))) }
            }
        }
        let smartCards = cards.map(smartCard)
        return FHIRPractitioner(
            id: FHIRIdentifier.of(professional.idNat),
            meta: FHIRMeta(lastUpdated: stored.updatedAt, profile: [FHIRSystem.practitionerProfile]),
            extension: smartCards.isEmpty ? nil : smartCards,
            active: true, identifier: identifiers, name: [name],
            qualification: qualifications.isEmpty ? nil : qualifications)
    }

    /// The `as-ext-smartcard` extension of one card: type, number, period, opposition date.
    static func smartCard(_ card: DirectoryCard) -> FHIRExtension {
        var parts = [
            FHIRExtension(url: "type", valueCodeableConcept: FHIRCodeableConcept(coding: [
                FHIRCoding(system: FHIRSystem.cardTypeR87, code: card.type.code, display: card.type.display),
            ])),
            FHIRExtension(url: "number", valueString: card.number),
            FHIRExtension(url: "period", valuePeriod: FHIRPeriod(start: card.validFrom?.description, end: card.validUntil.description)),
        ]
        if let opposition = card.oppositionDate {
            parts.append(FHIRExtension(url: "oppositionDate", valueDateTime: opposition.description))
        }
        return FHIRExtension(url: FHIRSystem.smartCardExtension, extension: parts)
    }

    /// A PractitionerRole: one activity, its practitioner and structure, and `code` with the
    /// activity's genre (TRE_R22), mode (TRE_R23), function (TRE_R21) and pharmacists' section
    /// (TRE_R06), as the IG's examples give one CodeableConcept each.
    static func practitionerRole(_ stored: StoredActivity, lastUpdated: String?) -> FHIRPractitionerRole {
        let activity = stored.activity
        var codes: [FHIRCodeableConcept] = []
        if let genre = activity.genreCode {
            codes.append(FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.genreR22, code: genre)]))
        }
        codes.append(FHIRCodeableConcept(coding: [
            FHIRCoding(system: FHIRSystem.modeR23, code: activity.mode.rawValue, display: activity.mode.label),
        ]))
        if let fonction = activity.fonctionCode {
            codes.append(FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.fonctionR21, code: fonction)]))
        }
        if let section = activity.sectionCode {
            codes.append(FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.sectionPharmacienR06, code: section)]))
        }
        return FHIRPractitionerRole(
            id: stored.id,
            meta: FHIRMeta(lastUpdated: lastUpdated, profile: [FHIRSystem.practitionerRoleProfile]),
            active: true,
            identifier: [FHIRIdentifierValue(use: "official", type: nil, system: FHIRSystem.activity, value: stored.id)],
            practitioner: FHIRReference(reference: "Practitioner/\(FHIRIdentifier.of(stored.idNat))"),
            organization: activity.structure.map { FHIRReference(reference: "Organization/\($0.idNatStruct)") },
            code: codes)
    }

    /// An Organization: its identifiers, `type` with the `organizationType` slice (legal or
    /// geographical entity) and the `secteurActiviteRASS` slice, name, trade name as alias,
    /// address, and `partOf` its legal entity.
    static func organization(_ structure: Structure) -> FHIROrganization {
        var identifiers = [identifier(type: "IDNST", system: FHIRSystem.idNatStruct, value: structure.identifier.idNatStruct)]
        switch structure.identifier {
        case .finess(let finess):
            identifiers.append(identifier(type: structure.entity == .legal ? "FINEJ" : "FINEG", system: FHIRSystem.finess, value: finess.value))
        case .siret(let siret):
            identifiers.append(identifier(type: "SIRET", system: FHIRSystem.sirene, value: siret.value))
        case .siren, .adeliCabinet, .technical:
            break
        case .rppsRang(let rang):
            identifiers.append(identifier(type: "RPPSRG", system: FHIRSystem.rppsRang, value: rang.value))
        }
        if let siren = structure.siren {
            identifiers.append(identifier(type: "SIREN", system: FHIRSystem.sirene, value: siren.value))
        }
        var types = [FHIRCodeableConcept(
            extension: [FHIRExtension(url: FHIRSystem.organizationTypesExtension, valueCode: "organizationType")],
            coding: [FHIRCoding(system: FHIRSystem.organizationTypeV23307, code: structure.entity.rawValue)])]
        if let code = structure.sectorCode {
            types.append(FHIRCodeableConcept(
                extension: [FHIRExtension(url: FHIRSystem.organizationTypesExtension, valueCode: "secteurActiviteRASS")],
                coding: [FHIRCoding(system: FHIRSystem.sectorR02, code: code, display: SecteurActivite.named(code: code)?.label)]))
        }
        let address = structure.address.map { address in
            [FHIRAddress(
                use: "work", line: address.line.map { [$0] }, city: address.city, postalCode: address.postalCode, country: "FR")]
        }
        return FHIROrganization(
            id: structure.identifier.idNatStruct,
            meta: FHIRMeta(profile: [FHIRSystem.organizationProfile]),
            active: true, identifier: identifiers, type: types, name: structure.name,
            alias: structure.tradeName.map { [$0] }, address: address,
            partOf: structure.legalEntity.map { FHIRReference(reference: "Organization/1\($0.value)") })
    }

    private static func identifier(type: String, system: String, value: String) -> FHIRIdentifierValue {
        FHIRIdentifierValue(
            use: "official",
            type: FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.identifierType, code: type)]),
            system: system, value: value)
    }
}
